"""Each analysis checked against values computed independently in Python from the generated records."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crypto_observability.log_analyzer.engine import Dataset, load
from crypto_observability.log_analyzer.error_patterns import analyze_errors, spike, trend
from crypto_observability.log_analyzer.exchanges import analyze_exchanges
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.health import analyze_health, combine
from crypto_observability.log_analyzer.journeys import analyze_journeys
from crypto_observability.log_analyzer.performance import analyze_performance

Rec = dict[str, Any]
NOW = datetime(2025, 1, 15, 3, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ds(log_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    """The generated directory loaded once for this module."""
    dataset = load([str(log_dir)], cache_dir=tmp_path_factory.mktemp("cache"))
    yield dataset
    dataset.close()


def _pcts(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p90": round(cuts[89], 2), "p95": round(cuts[94], 2),
            "p99": round(cuts[98], 2), "max": round(max(values), 2), "count": len(values)}


def test_latency_percentiles_match_python_statistics(ds: Dataset, records: list[Rec]) -> None:
    """p50/p90/p95/p99/max/count per exchange+method equal statistics.quantiles on the same data."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.get("event") == "exchange_api_call":
            groups.setdefault((r["context"]["exchange"], r["context"]["method"]), []).append(
                r["context"]["response_time_ms"])
    got = {(row["exchange"], row["method"]): {k: row[k] for k in ("p50", "p90", "p95", "p99", "max", "count")}
           for row in analyze_performance(ds)["latency_by_exchange_method"]}
    expected = {key: _pcts(values) for key, values in groups.items()}
    assert got.keys() == expected.keys()
    for key, row in expected.items():
        assert got[key] == pytest.approx(row, abs=0.011)


def test_command_success_rates_and_cache_ratio(ds: Dataset, records: list[Rec]) -> None:
    """Command success rates and the cache hit ratio equal direct counts over the records."""
    perf = analyze_performance(ds)
    commands = Counter(r["context"]["command"] for r in records if r.get("event") == "bot_command")
    ok = Counter(r["context"]["command"] for r in records if r.get("event") == "bot_command"
                 and r["context"]["success"])
    assert {row["command"]: (row["outcomes"], row["succeeded"]) for row in perf["command_success"]} == {
        c: (commands[c], ok[c]) for c in commands}
    gets = [r["context"]["hit"] for r in records if r.get("event") == "cache_operation"
            and r["context"]["operation"] == "get"]
    assert perf["cache"][0]["hit_ratio"] == round(sum(gets) / len(gets), 4)


def test_error_rates_and_critical_counts(ds: Dataset, records: list[Rec]) -> None:
    """Error rate per service and module counts ERROR and CRITICAL records over all records."""
    perf = analyze_performance(ds)
    totals = Counter((r["service"], r["module"]) for r in records)
    errors = Counter((r["service"], r["module"]) for r in records if r["level"] in ("ERROR", "CRITICAL"))
    assert {(row["service"], row["module"]): row["errors"] for row in perf["error_rates"]} == {
        key: errors[key] for key in totals}
    assert perf["critical"]["count"] == sum(r["level"] == "CRITICAL" for r in records)


def test_incident_is_found_with_recovery_time(ds: Dataset) -> None:
    """The generator's binance 429 storm is detected as an incident that recovers, with rate_limit as cause."""
    incidents = analyze_performance(ds)["incidents"]
    storm = [i for i in incidents if any(c["type"] == "rate_limit" for c in i["top_causes"])]
    assert storm and storm[0]["recovery_seconds"] > 0 and not storm[0]["ongoing"]
    assert storm[0]["top_causes"][0]["exchange"] == "binance"


def test_error_patterns_group_variable_messages(ds: Dataset, records: list[Rec]) -> None:
    """Messages differing only in ids and numbers fall into one template whose count is theirs."""
    result = analyze_errors(ds, top=50)
    pool = sum(1 for r in records if str(r["message"]).startswith("Connection pool exhausted"))
    rows = [p for p in result["patterns"] if p["template"].startswith("Connection pool exhausted")]
    assert [p["count"] for p in rows] == [pool]
    assert rows[0]["services"] == ["market-data"] and rows[0]["critical"] == pool
    assert result["total"] == sum(r["level"] in ("WARNING", "ERROR", "CRITICAL") for r in records)


@pytest.mark.parametrize(("series", "expected"), [
    ([1, 1, 1, 1, 9, 9, 9, 9], "rising"), ([9, 9, 9, 9, 1, 1, 1, 1], "falling"), ([3, 4, 3, 4, 3, 4], "steady"),
    ([0, 0, 0, 1, 1, 0], "steady")])
def test_trend_compares_the_two_halves(series: list[int], expected: str) -> None:
    """Trend is rising/falling only when the later half clearly differs from the earlier one."""
    assert trend(series) == expected


def test_spike_needs_a_multiple_of_the_baseline() -> None:
    """A last window at 3x the earlier average (and >= 5 records) is a spike; a small bump is not."""
    assert spike([2, 2, 2, 2, 12]) == (True, 6.0)
    assert spike([2, 2, 2, 2, 4]) == (False, 2.0)
    assert spike([0, 0, 0, 3])[0] is False


def test_exchange_ranking_and_rate_limits(ds: Dataset, records: list[Rec]) -> None:
    """Exchanges are ranked by success rate; binance carries the rate-limit hits of the incident."""
    rows = analyze_exchanges(ds)["exchanges"]
    rates = [r["success_rate"] for r in rows]
    assert rates == sorted(rates, reverse=True)
    hits = Counter(r["context"]["exchange"] for r in records if r.get("event") == "rate_limit_hit")
    assert {r["exchange"]: r["rate_limit_hits"] for r in rows if r["rate_limit_hits"]} == dict(hits)
    assert rows[-1]["exchange"] == "binance"


def test_journeys_follow_request_ids_across_services(ds: Dataset, records: list[Rec]) -> None:
    """Journey counts, failures and the slowest journey's steps match the records with that request_id."""
    result = analyze_journeys(ds, top=3)
    ids = {r["request_id"] for r in records if "request_id" in r}
    assert result["total"] == len(ids)
    cross = {r["request_id"] for r in records if r.get("service") == "market-data" and "request_id" in r}
    assert result["cross_service"] == len(cross)
    slowest = result["slowest"][0]
    own = [r for r in records if r.get("request_id") == slowest["request_id"]]
    assert [s["event"] for s in slowest["steps"]] == [r.get("event") for r in own]
    assert slowest["slowest_step"]["gap_ms"] == max(s["gap_ms"] for s in slowest["steps"][1:])


@pytest.mark.parametrize("cached", [False, True])
def test_steps_of_the_same_millisecond_keep_their_line_order(tmp_path: Path, cached: bool) -> None:
    """Steps sharing a timestamp come in the order of their lines, from plain and cached rotated files alike."""
    import gzip

    import orjson

    def rec(ms: int, event: str) -> bytes:
        return orjson.dumps({"timestamp": f"2025-01-15T00:00:00.{ms:03d}Z", "service": "market-data",
                             "module": "m", "level": "INFO", "message": event, "event": event, "request_id": "r1"})
    lines = b"\n".join([rec(1, "zeta"), rec(5, "yankee"), rec(5, "alpha"), rec(5, "mike"), rec(9, "bravo")]) + b"\n"
    path = tmp_path / "logs" / "market-data.log.20250115T000001.000Z.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(lines))
    cache = tmp_path / "cache"
    if cached:
        load([str(path)], cache_dir=cache).close()
    dataset = load([str(path)], cache_dir=cache)
    assert dataset.cached_files == int(cached)
    journey = analyze_journeys(dataset)["slowest"][0]
    dataset.close()
    assert [s["event"] for s in journey["steps"]] == ["zeta", "yankee", "alpha", "mike", "bravo"]
    assert [s["gap_ms"] for s in journey["steps"]] == [0.0, 4.0, 0.0, 0.0, 4.0]


def test_health_score_is_the_weighted_mean_of_components(ds: Dataset) -> None:
    """Each service's score equals the documented weighted mean of its components; overall is their mean."""
    result = analyze_health(ds, now=NOW)
    for service in result["services"]:
        assert service["score"] == combine(service["components"])
        assert 0 <= service["score"] <= 100
    assert result["score"] == round(sum(s["score"] for s in result["services"]) / len(result["services"]), 1)


def test_filters_limit_services_levels_and_time(log_dir: Path, records: list[Rec]) -> None:
    """--service, --level WARNING+ and --since relative to now keep exactly the matching records."""
    ds = load([str(log_dir)], Filters.parse(services=["market-data"], levels=["WARNING+"]))
    expected = sum(r["service"] == "market-data" and r["level"] in ("WARNING", "ERROR", "CRITICAL")
                   for r in records)
    assert ds.scalar("SELECT count(*) FROM records") == expected
    ds.close()
    last = max(str(r["timestamp"]) for r in records)
    ds = load([str(log_dir)], Filters.parse(since="1m", now=Filters.parse(since=last, now=NOW).since))
    assert ds.scalar("SELECT count(*) FROM records") == sum(str(r["timestamp"]) >= _minus_minute(last)
                                                            for r in records)
    ds.close()


def _minus_minute(stamp: str) -> str:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") - timedelta(minutes=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
