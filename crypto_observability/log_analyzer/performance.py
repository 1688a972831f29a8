"""Latency percentiles, resource use over time and the seed's business and error metrics.

Percentiles of ``context.response_time_ms`` interpolate linearly, like Python's
``statistics.quantiles(method="inclusive")``: exact on small inputs, within 1 % from the summaries'
histograms on large ones (see ``summary``). Counts come from the per-minute summaries, exactly.
"""

from __future__ import annotations

from typing import Any

from crypto_observability.log_analyzer._util import iso, percentiles, ratio, rnd, time_range, windows
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.incidents import find_incidents
from crypto_observability.log_analyzer.vocabulary import FAILURE, FAILURE_TYPE, OUTCOME, SUCCESS, USER_MISTAKE, tallies
from crypto_observability.log_analyzer.vocabulary import count as tally

QUANTILES = (0.5, 0.9, 0.95, 0.99)
_PCT = ("p50", "p90", "p95", "p99")


def latency(ds: Dataset, keys: str, where: str = "TRUE") -> list[dict[str, Any]]:
    """Return count, p50/p90/p95/p99 and max of response_time_ms grouped by the comma-separated ``keys``."""
    names = [k.strip() for k in keys.split(",")]
    rows = []
    for key, count, values, peak in percentiles(ds, names, where, QUANTILES):
        row: dict[str, Any] = dict(zip(names, key, strict=True))
        row["count"] = count
        for name, value in zip(_PCT, values, strict=True):
            row[name] = rnd(value)
        row["max"] = rnd(peak)
        rows.append(row)
    return rows


def success_rates(ds: Dataset, keys: str, where: str) -> list[dict[str, Any]]:
    """Return outcomes, successes, failures, user mistakes and the success rate (mistakes left out) by ``keys``."""
    rows = ds.dicts(f"""SELECT {keys}, sum(n)::BIGINT AS outcomes, {tally(SUCCESS)} AS succeeded,
                        {tally(FAILURE)} AS failures, {tally(USER_MISTAKE)} AS user_mistakes
                        FROM counts WHERE {OUTCOME} AND {where} GROUP BY ALL ORDER BY ALL""")
    for row in rows:
        row["success_rate"] = ratio(row["succeeded"], row["succeeded"] + row["failures"])
    return rows


def resources(ds: Dataset, buckets: int = 48) -> list[dict[str, Any]]:
    """Return average and peak memory (MB) and CPU (%) per service per time window."""
    span = windows(ds, buckets)
    if span is None:
        return []
    rows = ds.dicts(f"""SELECT service, {span.index_sql('minute')} AS bucket, min(first_ts) AS start,
                        CAST(sum(mem_sum) AS DOUBLE) / sum(mem_n) AS memory_avg_mb, max(mem_max) AS memory_max_mb,
                        CAST(sum(cpu_sum) AS DOUBLE) / nullif(sum(cpu_n), 0) AS cpu_avg, max(cpu_max) AS cpu_max
                        FROM {span.source(ds)} WHERE mem_n > 0 GROUP BY ALL ORDER BY service, bucket""")
    for row in rows:
        row["start"] = iso(row["start"])
        for key in ("memory_avg_mb", "memory_max_mb", "cpu_avg", "cpu_max"):
            row[key] = rnd(row[key])
    return rows


def resources_by_service(ds: Dataset) -> list[dict[str, Any]]:
    """Return each service's average and peak memory (MB) and CPU (%) over the whole range."""
    rows = ds.dicts("""SELECT service, CAST(sum(mem_sum) AS DOUBLE) / sum(mem_n) AS memory_avg_mb,
                       max(mem_max) AS memory_max_mb, CAST(sum(cpu_sum) AS DOUBLE) / nullif(sum(cpu_n), 0) AS cpu_avg,
                       max(cpu_max) AS cpu_max, sum(mem_n)::BIGINT AS samples
                       FROM counts WHERE mem_n > 0 GROUP BY 1 ORDER BY 1""")
    return [{k: rnd(v) for k, v in row.items()} for row in rows]


def error_rates(ds: Dataset) -> list[dict[str, Any]]:
    """Return records, problems, errors, criticals, failures and user mistakes per service and module."""
    rows = ds.dicts(f"""SELECT service, module, {tallies()}, {tally("level = 'CRITICAL'")} AS critical
                        FROM counts GROUP BY ALL ORDER BY failures DESC, problems DESC, service, module""")
    for row in rows:
        row["error_rate"] = ratio(row["errors"], row["records"])
        row["failure_rate"] = ratio(row["failures"], row["outcomes"] - row["user_mistakes"])
    return rows


def cache_ratios(ds: Dataset) -> list[dict[str, Any]]:
    """Return hits, misses and hit ratio per service: from the per-interval ``cache_stats`` (INFO) when a
    service logs them, else from the per-lookup ``cache_operation`` gets (DEBUG), never both."""
    rows = ds.dicts("""SELECT service,
                       coalesce(sum(hits_sum) FILTER (WHERE event = 'cache_stats'), 0)::BIGINT AS s_hits,
                       coalesce(sum(misses_sum) FILTER (WHERE event = 'cache_stats'), 0)::BIGINT AS s_misses,
                       coalesce(sum(n) FILTER (WHERE event = 'cache_operation' AND operation = 'get' AND hit), 0)
                       ::BIGINT AS o_hits,
                       coalesce(sum(n) FILTER (WHERE event = 'cache_operation' AND operation = 'get' AND NOT hit), 0)
                       ::BIGINT AS o_misses
                       FROM counts WHERE event IN ('cache_stats', 'cache_operation') GROUP BY 1 ORDER BY 1""")
    out = []
    for row in rows:
        stats = bool(row["s_hits"] or row["s_misses"])
        hits, misses = (row["s_hits"], row["s_misses"]) if stats else (row["o_hits"], row["o_misses"])
        if hits or misses:
            out.append({"service": row["service"], "hits": hits, "misses": misses,
                        "hit_ratio": ratio(hits, hits + misses), "from": "cache_stats" if stats else "cache_operation"})
    return out


RATE_SPAN_HOURS = 1.0  # a rate per hour only over at least this much time: shorter spans give counts alone


def critical_frequency(ds: Dataset) -> dict[str, Any]:
    """Return the number of CRITICAL records, and their rate per hour when the range spans an hour or more."""
    start, end = time_range(ds)
    found = int(ds.scalar("SELECT sum(n) FROM counts WHERE level = 'CRITICAL'") or 0)
    hours = (end - start).total_seconds() / 3600 if start and end else 0.0
    return {"count": found, "span_hours": round(hours, 3),
            "per_hour": round(found / hours, 3) if hours >= RATE_SPAN_HOURS else None}


def failure_types(ds: Dataset, top: int = 20) -> list[dict[str, Any]]:
    """Return failures (vocabulary.FAILURE) by type and the event that failed, with the services and exchanges."""
    return ds.dicts(f"""SELECT {FAILURE_TYPE} AS type, event, sum(n)::BIGINT AS failures,
                        list(DISTINCT service ORDER BY service) AS services,
                        list(DISTINCT exchange ORDER BY exchange) FILTER (WHERE exchange IS NOT NULL) AS exchanges
                        FROM counts WHERE {FAILURE} GROUP BY ALL ORDER BY failures DESC, type, event
                        LIMIT {int(top)}""")


def connectivity(ds: Dataset) -> list[dict[str, Any]]:
    """Return health-check results per component: checks, healthy share and the latest state."""
    rows = ds.dicts("""SELECT component, sum(n)::BIGINT AS checks, coalesce(sum(n) FILTER (WHERE healthy), 0)::BIGINT
                       AS healthy, arg_max(healthy, (last_ts, NOT healthy)) AS healthy_now, max(last_ts) AS last_check
                       FROM counts WHERE event = 'health_check' AND healthy IS NOT NULL
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
        "failure_types": failure_types(ds),
        "resources": resources(ds, buckets),
        "resources_by_service": resources_by_service(ds),
        "incidents": find_incidents(ds),
    }
