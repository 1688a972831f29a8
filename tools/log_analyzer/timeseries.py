"""Series over time for the report's charts: error rate, latency percentiles, exchange reliability."""

from __future__ import annotations

from typing import Any

from tools.log_analyzer._util import bucket_expr, bucket_width_seconds, iso, ratio, rnd, time_range
from tools.log_analyzer.engine import Dataset


def analyze_timeseries(ds: Dataset, buckets: int = 48) -> dict[str, Any]:
    """Return per-window records, error rates (overall and per service), latency and exchange success."""
    start, end = time_range(ds)
    if start is None or end is None:
        return {"bucket_seconds": None, "buckets": [], "error_rate_by_service": {}, "exchange_success": {}}
    width = bucket_width_seconds(start, end, buckets)
    bucket = bucket_expr(start, width, buckets)
    rows = ds.dicts(f"""SELECT {bucket} AS bucket, min(ts) AS start, count(*) AS records,
                        count(*) FILTER (WHERE level IN ('ERROR', 'CRITICAL')) AS errors,
                        quantile_cont(rt, [0.5, 0.95, 0.99]) AS q
                        FROM records GROUP BY 1 ORDER BY 1""")
    for row in rows:
        row["start"] = iso(row["start"])
        row["error_rate"] = ratio(row["errors"], row["records"])
        row["p50_ms"], row["p95_ms"], row["p99_ms"] = rnd(row.pop("q") or [None, None, None])
    by_service: dict[str, list[dict[str, Any]]] = {}
    for service, index, total, errors in ds.rows(
            f"SELECT service, {bucket}, count(*), count(*) FILTER (WHERE level IN ('ERROR', 'CRITICAL')) "
            "FROM records GROUP BY ALL ORDER BY ALL"):
        by_service.setdefault(service, []).append({"bucket": index, "error_rate": ratio(errors, total)})
    exchanges: dict[str, list[dict[str, Any]]] = {}
    for exchange, index, calls, ok in ds.rows(
            f"SELECT exchange, {bucket}, count(*), count(*) FILTER (WHERE success) FROM records "
            "WHERE event = 'exchange_api_call' AND exchange IS NOT NULL GROUP BY ALL ORDER BY ALL"):
        exchanges.setdefault(exchange, []).append({"bucket": index, "success_rate": ratio(ok, calls),
                                                   "calls": calls})
    return {"bucket_seconds": round(width, 3), "start": iso(start), "end": iso(end), "buckets": rows,
            "error_rate_by_service": by_service, "exchange_success": exchanges}
