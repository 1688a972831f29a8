"""Series over time for the report's charts: error rate, latency percentiles, exchange reliability.

Windows are round widths aligned on the epoch (``_util.windows``): a window keeps its bounds as records
arrive, so the counts come from the per-minute summaries (windows under a minute: the same summaries at
that grain) and the percentiles from their histograms (exact percentiles from the rows on small inputs).
"""

from __future__ import annotations

from typing import Any

from crypto_observability.log_analyzer._util import Windows, exact_percentiles, iso, ratio, rnd, time_range, windows
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.summary import grouped_quantiles

QUANTILES = (0.5, 0.95, 0.99)


def _latency(ds: Dataset, span: Windows) -> dict[int, list[float | None]]:
    """Return p50/p95/p99 of response_time_ms per window."""
    if exact_percentiles(ds):
        return {b: q for b, q in ds.rows(f"SELECT {span.index_sql('ts')}, quantile_cont(rt, {list(QUANTILES)}) "
                                         "FROM records WHERE rt IS NOT NULL GROUP BY 1")}
    rows = ds.rows(f"SELECT {span.index_sql('minute')} AS b, bin, sum(n), min(lo), max(hi) "
                   f"FROM {span.source(ds, 'latency_by_minute')} GROUP BY ALL ORDER BY ALL")
    return {key[0]: values for key, (_, values, _) in grouped_quantiles(rows, 1, QUANTILES).items()}


def analyze_timeseries(ds: Dataset, buckets: int = 48) -> dict[str, Any]:
    """Return per-window records, error rates (overall and per service), latency and exchange success."""
    start, end = time_range(ds)
    span = windows(ds, buckets)
    if span is None:
        return {"bucket_seconds": None, "buckets": [], "error_rate_by_service": {}, "exchange_success": {}}
    bucket, source = span.index_sql("minute"), span.source(ds)
    errors = "coalesce(sum(n) FILTER (WHERE level IN ('ERROR', 'CRITICAL')), 0)::BIGINT"
    rows = ds.dicts(f"""SELECT {bucket} AS bucket, min(first_ts) AS start, sum(n)::BIGINT AS records, {errors} AS errors
                        FROM {source} GROUP BY 1 ORDER BY 1""")
    latency = _latency(ds, span)
    for row in rows:
        row["start"] = iso(row["start"])
        row["error_rate"] = ratio(row["errors"], row["records"])
        row["p50_ms"], row["p95_ms"], row["p99_ms"] = rnd(latency.get(row["bucket"]) or [None, None, None])
    by_service: dict[str, list[dict[str, Any]]] = {}
    for service, index, total, failed in ds.rows(
            f"SELECT service, {bucket}, sum(n), {errors} FROM {source} GROUP BY ALL ORDER BY ALL"):
        by_service.setdefault(service, []).append({"bucket": index, "error_rate": ratio(failed, total)})
    exchanges: dict[str, list[dict[str, Any]]] = {}
    for exchange, index, calls, ok in ds.rows(
            f"SELECT exchange, {bucket}, sum(n)::BIGINT, coalesce(sum(n) FILTER (WHERE success), 0) FROM {source} "
            "WHERE event = 'exchange_api_call' AND exchange IS NOT NULL GROUP BY ALL ORDER BY ALL"):
        exchanges.setdefault(exchange, []).append({"bucket": index, "success_rate": ratio(ok, calls),
                                                   "calls": calls})
    return {"bucket_seconds": span.width, "start": iso(start), "end": iso(end), "buckets": rows,
            "error_rate_by_service": by_service, "exchange_success": exchanges}
