"""Latency percentiles, resource use over time and the seed's business and error metrics.

Percentiles are DuckDB's ``quantile_cont`` (linear interpolation, like Python's
``statistics.quantiles(method="inclusive")``) of ``context.response_time_ms``.
"""

from __future__ import annotations

from typing import Any

from tools.log_analyzer._util import bucket_expr, bucket_width_seconds, iso, ratio, rnd, time_range
from tools.log_analyzer.engine import Dataset
from tools.log_analyzer.incidents import find_incidents

QUANTILES = (0.5, 0.9, 0.95, 0.99)
_PCT = ("p50", "p90", "p95", "p99")


def latency(ds: Dataset, keys: str, where: str = "TRUE") -> list[dict[str, Any]]:
    """Return count, p50/p90/p95/p99 and max of response_time_ms grouped by the SQL ``keys``."""
    rows = ds.dicts(f"""SELECT {keys}, count(rt) AS count, quantile_cont(rt, {list(QUANTILES)}) AS q,
                        max(rt) AS max FROM records WHERE rt IS NOT NULL AND {where}
                        GROUP BY ALL ORDER BY ALL""")
    for row in rows:
        for name, value in zip(_PCT, row.pop("q"), strict=True):
            row[name] = rnd(value)
        row["max"] = rnd(row.pop("max"))
    return rows


def success_rates(ds: Dataset, keys: str, where: str) -> list[dict[str, Any]]:
    """Return total, successes, failures and success rate of ``context.success`` grouped by ``keys``."""
    rows = ds.dicts(f"""SELECT {keys}, count(*) AS total, count(*) FILTER (WHERE success) AS succeeded
                        FROM records WHERE success IS NOT NULL AND {where} GROUP BY ALL ORDER BY ALL""")
    for row in rows:
        row["failed"] = row["total"] - row["succeeded"]
        row["success_rate"] = ratio(row["succeeded"], row["total"])
    return rows


def resources(ds: Dataset, buckets: int = 48) -> list[dict[str, Any]]:
    """Return average and peak memory (MB) and CPU (%) per service per time window."""
    start, end = time_range(ds)
    if start is None:
        return []
    width = bucket_width_seconds(start, end, buckets)
    rows = ds.dicts(f"""SELECT service, {bucket_expr(start, width, buckets)} AS bucket, min(ts) AS start,
                        avg(memory_mb) AS memory_avg_mb, max(memory_mb) AS memory_max_mb,
                        avg(cpu_percent) AS cpu_avg, max(cpu_percent) AS cpu_max
                        FROM records WHERE memory_mb IS NOT NULL GROUP BY ALL ORDER BY service, bucket""")
    for row in rows:
        row["start"] = iso(row["start"])
        for key in ("memory_avg_mb", "memory_max_mb", "cpu_avg", "cpu_max"):
            row[key] = rnd(row[key])
    return rows


def error_rates(ds: Dataset) -> list[dict[str, Any]]:
    """Return records, errors (ERROR+), criticals and the error rate per service and module."""
    rows = ds.dicts("""SELECT service, module, count(*) AS records,
                       count(*) FILTER (WHERE level IN ('ERROR', 'CRITICAL')) AS errors,
                       count(*) FILTER (WHERE level = 'CRITICAL') AS critical
                       FROM records GROUP BY ALL ORDER BY errors DESC, service, module""")
    for row in rows:
        row["error_rate"] = ratio(row["errors"], row["records"])
    return rows


def cache_ratios(ds: Dataset) -> list[dict[str, Any]]:
    """Return hits, misses and hit ratio of cache lookups (``cache_operation`` with operation get)."""
    rows = ds.dicts("""SELECT service, count(*) FILTER (WHERE hit) AS hits, count(*) FILTER (WHERE NOT hit) AS misses
                       FROM records WHERE event = 'cache_operation' AND operation = 'get' AND hit IS NOT NULL
                       GROUP BY ALL ORDER BY ALL""")
    for row in rows:
        row["hit_ratio"] = ratio(row["hits"], row["hits"] + row["misses"])
    return rows


def critical_frequency(ds: Dataset) -> dict[str, Any]:
    """Return the number of CRITICAL records and their rate per hour over the analysed range."""
    start, end = time_range(ds)
    count = int(ds.scalar("SELECT count(*) FROM records WHERE level = 'CRITICAL'") or 0)
    hours = (end - start).total_seconds() / 3600 if start and end and end > start else None
    return {"count": count, "per_hour": round(count / hours, 3) if hours else None}


def exception_types(ds: Dataset, top: int = 20) -> list[dict[str, Any]]:
    """Return the most frequent exception (or error) types with counts and the services raising them."""
    return ds.dicts(f"""SELECT coalesce(exc_type, err_type) AS type, count(*) AS count,
                        list(DISTINCT service ORDER BY service) AS services
                        FROM records WHERE coalesce(exc_type, err_type) IS NOT NULL
                        GROUP BY 1 ORDER BY count DESC, type LIMIT {int(top)}""")


def connectivity(ds: Dataset) -> list[dict[str, Any]]:
    """Return health-check results per component: checks, healthy share and the latest state."""
    rows = ds.dicts("""SELECT component, count(*) AS checks, count(*) FILTER (WHERE healthy) AS healthy,
                       arg_max(healthy, (ts, NOT healthy)) AS healthy_now, max(ts) AS last_check
                       FROM records WHERE event = 'health_check' AND healthy IS NOT NULL
                       GROUP BY ALL ORDER BY ALL""")
    for row in rows:
        row["healthy_ratio"] = ratio(row["healthy"], row["checks"])
        row["last_check"] = iso(row["last_check"])
    return rows


def analyze_performance(ds: Dataset, buckets: int = 48) -> dict[str, Any]:
    """Return every performance table of the report as plain data."""
    return {
        "latency_by_service": latency(ds, "service"),
        "latency_by_endpoint": latency(ds, "service, method, path", "event = 'http_request'"),
        "latency_by_command": latency(ds, "command", "event = 'bot_command'"),
        "latency_by_exchange_method": latency(ds, "exchange, method", "event = 'exchange_api_call'"),
        "command_success": success_rates(ds, "command", "event = 'bot_command'"),
        "market_data_success": success_rates(ds, "service", "event = 'market_data_response'"),
        "exchange_success": success_rates(ds, "exchange", "event = 'exchange_api_call'"),
        "connectivity": connectivity(ds),
        "cache": cache_ratios(ds),
        "error_rates": error_rates(ds),
        "critical": critical_frequency(ds),
        "exception_types": exception_types(ds),
        "resources": resources(ds, buckets),
        "incidents": find_incidents(ds),
    }
