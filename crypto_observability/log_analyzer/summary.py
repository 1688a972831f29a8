"""Mergeable summaries of the records, so a report need not scan every row again.

Seven tables, each a plain GROUP BY that can be summed across files (``starts``: the few rows themselves):

    counts             per minute and per combination of the dimensions the count analyses group on:
                       records ``n``, first/last timestamp, memory/CPU sums (exact, to 0.001) and peaks,
                       the hits and misses ``cache_stats`` records report
    latency            per (service, event, method, path, command, exchange) and log bucket of
                       ``response_time_ms``: count, min, max
    latency_by_minute  per minute and log bucket: count, min, max
    journey_parts      per request_id: first/last time, events, services, slowest response, failure
    incident_cells     per 10 s window, service, event, exchange and failure type: judged outcomes,
                       failures, first and last failure (incidents.py)
    commits            per service and git_commit: first and last time (deploy markers)
    starts             the ``config_loaded`` records themselves (restart and config-change markers)

Each SELECT is written once and rendered for DuckDB (the files) or ClickHouse (the central store, computed
there: ``store/dataset.py``, and kept on insert by the views ``store/migrations.py`` renders) through
``dialect.py``. A cached rotated file keeps its summaries beside its
rows (built once, from the rows just written); the active files' are computed at load. Counts are exact.
Percentiles from the histograms are approximate: a bucket spans a factor ``GAMMA`` = 1.02, its value is its
geometric middle clamped to the bucket's own min and max, so each order statistic is off by at most
sqrt(1.02) - 1 < 1 % (relative), and so is the interpolation between two of them. Small inputs
(``EXACT_LIMIT`` timed records or fewer) get exact percentiles from the rows instead (not from the store).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from crypto_observability.log_analyzer.dialect import DUCKDB, Dialect
from crypto_observability.log_analyzer.vocabulary import FAILURE, FAILURE_TYPE, SUCCESS

GAMMA = 1.02
EXACT_LIMIT = 200_000  # at most this many timed records: percentiles from the rows, exactly
DIMS: tuple[str, ...] = ("service", "module", "level", "event", "method", "path", "status_code", "command", "exchange",
                         "error_type", "err_type", "exc_type", "operation", "hit", "component", "healthy", "success",
                         "flags")
LATENCY_KEYS: tuple[str, ...] = ("service", "event", "method", "path", "command", "exchange")
TABLES: tuple[str, ...] = ("counts", "latency", "latency_by_minute", "journey_parts", "incident_cells", "commits",
                           "starts")
FILTERABLE: dict[str, tuple[str, ...]] = {  # the --service/--level filters a table's groups can take as they are
    "counts": ("service", "level"), "latency": ("service",), "latency_by_minute": (), "journey_parts": (),
    "incident_cells": ("service",), "commits": ("service",), "starts": ("service", "level"),
}
# the store keeps latency per minute and key, finer than either file summary, so both roll up from it
STORED_LATENCY = "latency_by_minute_and_key"
INCIDENT_RESOLUTION_S = 10  # incidents.py's windows: fixed, aligned on the epoch, so they merge across files
_ZERO_BIN = -(1 << 30)  # response times <= 0 share one bucket below every other

_DIM_LIST = ", ".join(f'"{d}"' for d in DIMS)
_KEY_LIST = ", ".join(f'"{k}"' for k in LATENCY_KEYS)
_BIN = f"CASE WHEN rt > 0 THEN CAST(floor(ln(rt) / {math.log(GAMMA)!r}) AS INTEGER) ELSE {_ZERO_BIN} END"
MINUTE = 60


def _measures(fixed: str) -> str:
    """Return the resource and cache measures; sums in fixed point (0.001): exact, so they add up to the same
    total in any order or grouping."""
    return (f"count(memory_mb) AS mem_n, sum({fixed.format('memory_mb')}) AS mem_sum, max(memory_mb) AS mem_max, "
            f"count(cpu_percent) AS cpu_n, sum({fixed.format('cpu_percent')}) AS cpu_sum, "
            "max(cpu_percent) AS cpu_max, sum(cache_hits) AS hits_sum, sum(cache_misses) AS misses_sum")


def summary_select(table: str, source: str, dialect: Dialect = DUCKDB, grain: int = MINUTE) -> str:
    """Return the SELECT building summary ``table`` from the flat rows of ``source`` (a relation), in ``dialect``.

    ``grain`` is the width in seconds of the windows ``counts`` and ``latency_by_minute`` group on (their
    ``minute`` column is the window's start).
    """
    bucket = dialect["bucket"].format(seconds=int(grain), ts="ts")
    if table == "counts":
        return (f"SELECT {bucket} AS minute, {_DIM_LIST}, count(*) AS n, "
                f"min(ts) AS first_ts, max(ts) AS last_ts, {_measures(dialect['fixed'])} FROM {source} GROUP BY ALL")
    if table == "journey_parts":
        key = dialect["epoch_us"].format("ts") + f" * 2 + CAST({FAILURE} AS BIGINT)"
        return _JOURNEY_PARTS.format(source=source, judged=f"({SUCCESS} OR {FAILURE})", key=key,
                                     service_hash=dialect["hash"].format("service"),
                                     outcome=dialect["arg_max"].format(f"NOT {FAILURE}", key))
    if table == "incident_cells":
        window = dialect["epoch_div"].format(ts="ts", n=INCIDENT_RESOLUTION_S)
        return (f"SELECT {window} AS w, service, event, exchange, "
                f"CASE WHEN {FAILURE} THEN {FAILURE_TYPE} END AS type, count(*) AS judged, "
                f"count(*) FILTER (WHERE {FAILURE}) AS failures, min(ts) FILTER (WHERE {FAILURE}) AS first_fail, "
                f"max(ts) FILTER (WHERE {FAILURE}) AS last_fail FROM {source} WHERE {SUCCESS} OR {FAILURE} "
                "GROUP BY ALL")
    if table == "commits":
        return (f"SELECT service, git_commit, min(ts) AS first, max(ts) AS last FROM {source} "
                "WHERE git_commit IS NOT NULL GROUP BY ALL")
    if table == "starts":
        return (f"SELECT ts, seq, service, level, component, config_hash FROM {source} "
                "WHERE event = 'config_loaded'")
    keys = {"latency": _KEY_LIST, "latency_by_minute": f"{bucket} AS minute",
            STORED_LATENCY: f"{bucket} AS minute, {_KEY_LIST}"}[table]
    return (f"SELECT {keys}, {_BIN} AS bin, count(*) AS n, min(rt) AS lo, max(rt) AS hi FROM {source} "
            "WHERE rt IS NOT NULL GROUP BY ALL")


# per request_id: what a journey's summary needs, mergeable with min/max/sum/bool_or/arg_max (journeys.py)
_JOURNEY_PARTS = """SELECT request_id, max("user") AS "user", min(ts) AS start, max(ts) AS finish, count(*) AS events,
min({service_hash}) AS service_lo, max({service_hash}) AS service_hi, max(rt) AS rt_max,
max(level IN ('ERROR', 'CRITICAL')) AS has_error,
max({key}) FILTER (WHERE {judged}) AS outcome_key,
{outcome} FILTER (WHERE {judged}) AS outcome
FROM {source} WHERE request_id IS NOT NULL GROUP BY request_id"""


def rows_as_counts(source: str = "records") -> str:
    """Return a relation shaped like ``counts`` with one row per record (for windows under a minute)."""
    fixed = DUCKDB["fixed"]
    return (f"(SELECT ts AS minute, {_DIM_LIST}, 1 AS n, ts AS first_ts, ts AS last_ts, "
            f"CAST(memory_mb IS NOT NULL AS INTEGER) AS mem_n, {fixed.format('memory_mb')} AS mem_sum, "
            f"memory_mb AS mem_max, CAST(cpu_percent IS NOT NULL AS INTEGER) AS cpu_n, "
            f"{fixed.format('cpu_percent')} AS cpu_sum, cpu_percent AS cpu_max, "
            "cache_hits AS hits_sum, cache_misses AS misses_sum "
            f"FROM {source})")


def _value(bin_: int, lo: float, hi: float) -> float:
    """Return the value standing for the records of one bucket (its geometric middle, kept in [lo, hi])."""
    middle = 0.0 if bin_ == _ZERO_BIN else GAMMA ** (bin_ + 0.5)
    return min(hi, max(lo, middle))


def histogram_quantiles(buckets: Sequence[tuple[int, int, float, float]], qs: Iterable[float]) -> list[float | None]:
    """Return quantiles (linear interpolation, as ``quantile_cont``) of sorted (bin, n, lo, hi) buckets."""
    total = sum(b[1] for b in buckets)
    if not total:
        return [None for _ in qs]
    ends, running = [], 0
    for bucket in buckets:
        running += bucket[1]
        ends.append(running)

    def at(rank: int) -> float:
        index = next(i for i, end in enumerate(ends) if rank < end)
        bin_, _, lo, hi = buckets[index]
        return _value(bin_, lo, hi)

    out: list[float | None] = []
    for q in qs:
        position = (total - 1) * q
        below = math.floor(position)
        low = at(below)
        out.append(low + (position - below) * (at(min(below + 1, total - 1)) - low))
    return out


def grouped_quantiles(rows: Iterable[Sequence[Any]], width: int, qs: Sequence[float]) -> dict[tuple[Any, ...], Any]:
    """Group rows of (*key[width], bin, n, lo, hi) sorted by key and bin; return key -> (count, quantiles, max)."""
    groups: dict[tuple[Any, ...], list[tuple[int, int, float, float]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[:width]), []).append((row[width], row[width + 1], row[width + 2], row[width + 3]))
    return {key: (sum(b[1] for b in buckets), histogram_quantiles(buckets, qs), max(b[3] for b in buckets))
            for key, buckets in groups.items()}
