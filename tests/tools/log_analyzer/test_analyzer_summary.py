"""Summaries: log-bucket histogram percentiles stay within 1 % of exact ones; counts and windows are exact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto_observability.log_analyzer._util import windows
from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import Dataset, load
from crypto_observability.log_analyzer.exchanges import analyze_exchanges
from crypto_observability.log_analyzer.performance import analyze_performance
from crypto_observability.log_analyzer.summary import GAMMA, histogram_quantiles, rows_as_counts
from crypto_observability.log_analyzer.timeseries import analyze_timeseries

BOUND = GAMMA ** 0.5 - 1  # < 1 %
NOW = datetime(2025, 1, 15, 3, tzinfo=UTC)
QS = (0.0, 0.5, 0.9, 0.95, 0.99, 1.0)


def _histogram(values: list[float]) -> list[tuple[int, int, float, float]]:
    import math

    bins: dict[int, list[float]] = {}
    for value in values:
        bins.setdefault(math.floor(math.log(value) / math.log(GAMMA)), []).append(value)
    return [(b, len(v), min(v), max(v)) for b, v in sorted(bins.items())]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=1, max_size=300))
def test_histogram_quantiles_are_within_the_bound(values: list[float]) -> None:
    """Every interpolated quantile from the buckets is within sqrt(GAMMA) - 1 of the exact one."""
    ordered = sorted(values)
    for q, got in zip(QS, histogram_quantiles(_histogram(values), QS), strict=True):
        position = (len(ordered) - 1) * q
        low = int(position)
        exact = ordered[low] + (position - low) * (ordered[min(low + 1, len(ordered) - 1)] - ordered[low])
        assert got == pytest.approx(exact, rel=BOUND + 1e-9)


def test_single_value_buckets_are_exact() -> None:
    """A bucket holding one distinct value gives that value back, not the bucket's middle."""
    assert histogram_quantiles([(241, 5, 123.0, 123.0)], (0.5, 0.99)) == [123.0, 123.0]


@pytest.fixture(scope="module")
def ds(log_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    """The generated directory, loaded twice so the second read uses the cached files' summaries."""
    cache = tmp_path_factory.mktemp("cache")
    load([str(log_dir)], cache_dir=cache).close()
    dataset = load([str(log_dir)], cache_dir=cache)
    yield dataset
    dataset.close()


def _latencies(doc: dict[str, Any]) -> list[tuple[str, float | None]]:
    out = []
    for table, rows in doc.items():
        if table.startswith("latency_by"):
            out += [(f"{table}{i}{name}", row[name]) for i, row in enumerate(rows) for name in ("p50", "p95", "p99")]
    return out


def _both(ds: Dataset, analysis: Any) -> tuple[Any, Any]:
    ds.exact = True
    exact = analysis(ds)
    ds.exact = False
    try:
        return exact, analysis(ds)
    finally:
        ds.exact = None


def test_histogram_percentiles_of_the_dataset_are_within_one_percent(ds: Dataset) -> None:
    """Latency tables, exchange p50/p95 and chart percentiles from histograms are within 1 % of exact."""
    exact, approx = _both(ds, analyze_performance)
    pairs = list(zip(_latencies(exact), _latencies(approx), strict=True))
    timeseries = _both(ds, analyze_timeseries)
    pairs += [((f"ts{k}", a[k]), (f"ts{k}", b[k])) for a, b in zip(timeseries[0]["buckets"], timeseries[1]["buckets"],
                                                                   strict=True) for k in ("p50_ms", "p95_ms", "p99_ms")]
    rows = _both(ds, analyze_exchanges)
    pairs += [((f"x{k}", a[k]), (f"x{k}", b[k])) for a, b in zip(rows[0]["exchanges"], rows[1]["exchanges"],
                                                                  strict=True) for k in ("p50_ms", "p95_ms")]
    assert len(pairs) > 50
    for (name, want), (other, got) in pairs:
        assert name == other
        assert got == pytest.approx(want, rel=0.01, abs=0.011), name
    assert [r["count"] for r in exact["latency_by_endpoint"]] == [r["count"] for r in approx["latency_by_endpoint"]]


def test_cached_summaries_equal_a_fresh_read(log_dir: Path, ds: Dataset) -> None:
    """Counts, rates and windows from the cached files' summaries equal those of reading every row afresh."""
    fresh = load([str(log_dir)])
    try:
        expected, actual = build_dashboard(fresh, NOW), build_dashboard(ds, NOW)
    finally:
        fresh.close()
    for doc in (expected, actual):
        doc["input"].pop("cached_files")
    assert expected == actual


@pytest.fixture(scope="module")
def hours_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated records re-stamped 5 s apart (about 4 hours): two rotated .gz files and an active file."""
    import gzip

    import orjson

    from benchmarks.record_generator import generate_records

    root = tmp_path_factory.mktemp("hours")
    lines = []
    for index, record in enumerate(generate_records(3000, seed=11)):
        record["timestamp"] = (datetime(2025, 1, 15, 0, 0, 7) + timedelta(seconds=5 * index)).isoformat(
            timespec="milliseconds") + "Z"
        lines.append(orjson.dumps(record) + b"\n")
    for number, part in enumerate((lines[:1200], lines[1200:2400])):
        with gzip.open(root / f"app.log.20250115T0{number}0000.000Z.gz", "wb") as handle:
            handle.writelines(part)
    (root / "app.log").write_bytes(b"".join(lines[2400:]))
    return root


def test_windows_are_round_and_aligned(hours_dir: Path) -> None:
    """Chart windows have a round width of whole minutes, start on a multiple of it, and there are at most 48."""
    dataset = load([str(hours_dir)])
    span = windows(dataset)
    dataset.close()
    assert span is not None and span.count <= 48 and span.width == 600
    assert (span.origin() - datetime(1970, 1, 1)).total_seconds() % span.width == 0


def test_minute_summaries_give_the_rows_answers(hours_dir: Path, tmp_path: Path) -> None:
    """Over hours, the charts, resources and incidents from cached minute summaries equal those from the rows."""
    cache = tmp_path / "cache"
    load([str(hours_dir)], cache_dir=cache).close()
    warm = load([str(hours_dir)], cache_dir=cache)
    rows = load([str(hours_dir)])
    try:
        rows.con.execute("DROP TABLE counts")  # the rows themselves, shaped as summaries
        rows.con.execute(f"CREATE TEMP VIEW counts AS SELECT * FROM {rows_as_counts()}")
        assert warm.cached_files == 2
        assert build_dashboard(warm, NOW)["timeseries"]["buckets"]
        for analysis in (analyze_timeseries, analyze_performance, analyze_exchanges):
            assert analysis(rows) == analysis(warm)
    finally:
        warm.close()
        rows.close()


@pytest.mark.parametrize("options", [
    {"services": ["market-data"]}, {"levels": ["WARNING+"]}, {"levels": ["INFO"], "services": ["telegram-bot"]},
    {"since": "2025-01-15T01:00:00Z", "until": "2025-01-15T03:00:00Z"},
])
def test_filtered_dashboards_from_the_cache_equal_fresh_ones(hours_dir: Path, tmp_path: Path,
                                                             options: dict[str, Any]) -> None:
    """Each filter gives the same dashboard from cached summaries as from the rows read afresh."""
    from crypto_observability.log_analyzer.filters import Filters

    filters = Filters.parse(**options)
    load([str(hours_dir)], cache_dir=tmp_path / "cache").close()
    docs = []
    for cache in (tmp_path / "cache", None):
        dataset = load([str(hours_dir)], filters, cache_dir=cache)
        try:
            docs.append(build_dashboard(dataset, NOW))
        finally:
            dataset.close()
        docs[-1]["input"].pop("cached_files")
    assert docs[0]["input"]["records"] > 0
    assert docs[0] == docs[1]
