"""Incidents and recovery time: runs of windows whose failure rate stands far above the usual.

A failure is an ERROR/CRITICAL record, an outcome with ``success`` false, a failed health check or a
rate-limit hit. A window is abnormal when its failure rate exceeds ``max(factor x median rate,
median + margin)``, it has at least ``minimum`` failures, and more than ``sigmas`` standard deviations
(Poisson) above what the median rate predicts for its volume; consecutive abnormal windows (two quiet
windows tolerated) form an incident. Recovery time runs from the incident's first failure to the start
of the first normal window after it.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from tools.log_analyzer._util import Windows, iso, time_range, windows
from tools.log_analyzer.engine import Dataset

FAILURE = ("(level IN ('ERROR', 'CRITICAL') OR success = false OR healthy = false "
           "OR event = 'rate_limit_hit')")


def _runs(abnormal: list[bool], gap: int = 1) -> list[tuple[int, int]]:
    """Return (first, last) indexes of abnormal runs, bridging up to ``gap`` normal windows."""
    runs: list[tuple[int, int]] = []
    for index, flag in enumerate(abnormal):
        if not flag:
            continue
        if runs and index - runs[-1][1] <= gap + 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def find_incidents(ds: Dataset, buckets: int = 48, factor: float = 2.0, margin: float = 0.02,
                   minimum: int = 5, sigmas: float = 4.0) -> list[dict[str, Any]]:
    """Return the incidents in the records with start, recovery time, peak rate and main error types."""
    start, end = time_range(ds)
    span = windows(ds, buckets)
    if start is None or end is None or span is None:
        return []
    buckets = span.count
    totals, failures = [0] * buckets, [0] * buckets
    first_failure: dict[int, datetime] = {}
    for bucket, total, failed, first in ds.rows(
            f"SELECT {span.index_sql('minute')} AS b, sum(n), coalesce(sum(n) FILTER (WHERE {FAILURE}), 0), "
            f"min(first_ts) FILTER (WHERE {FAILURE}) FROM {span.source()} GROUP BY 1"):
        totals[bucket], failures[bucket] = int(total), int(failed)
        if first is not None:
            first_failure[bucket] = first
    rates = [f / t if t else 0.0 for f, t in zip(failures, totals, strict=True)]
    usual = statistics.median([r for r, t in zip(rates, totals, strict=True) if t]) if any(totals) else 0.0
    threshold = max(factor * usual, usual + margin)
    abnormal = [rate > threshold and fails >= minimum and fails > usual * total + sigmas * (usual * total) ** 0.5
                for rate, fails, total in zip(rates, failures, totals, strict=True)]
    incidents = []
    for first, last in _runs(abnormal, gap=2):
        began = first_failure.get(first, span.start(first))
        ongoing = last >= buckets - 1
        recovered = None if ongoing else span.start(last + 1)
        incidents.append({
            "start": iso(began), "recovered_at": iso(recovered),
            "recovery_seconds": round((recovered - began).total_seconds(), 1) if recovered else None,
            "ongoing": ongoing, "failures": sum(failures[first:last + 1]),
            "peak_failure_rate": round(max(rates[first:last + 1]), 4), "usual_failure_rate": round(usual, 4),
            "top_causes": _causes(ds, span, first, last + 1),
        })
    return incidents


def _causes(ds: Dataset, span: Windows, first: int, stop: int, top: int = 3) -> list[dict[str, Any]]:
    """Return the commonest failure causes in windows ``first`` to ``stop`` (excluded)."""
    index = span.index_sql("minute")
    return ds.dicts(f"""SELECT coalesce(error_type, err_type, CASE WHEN event = 'rate_limit_hit' THEN 'rate_limit' END,
                        level) AS cause, exchange, sum(n)::BIGINT AS count
                        FROM {span.source()} WHERE {FAILURE} AND {index} >= ? AND {index} < ?
                        GROUP BY ALL ORDER BY count DESC, cause LIMIT {top}""", [first, stop])
