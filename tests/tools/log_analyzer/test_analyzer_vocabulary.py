"""One vocabulary: the same records give the same count in every command; incidents do not move with the range."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.vocabulary import USER_ERROR_TYPES

Rec = dict[str, Any]
NOW = datetime(2025, 1, 15, 3, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def doc(log_dir: Path) -> Iterator[dict[str, Any]]:
    """The whole dashboard over the generated directory."""
    ds = load([str(log_dir)])
    yield build_dashboard(ds, NOW)
    ds.close()


def _failed(record: Rec) -> bool:
    """The vocabulary's failure, computed independently: a failed outcome, not the user's mistake."""
    ctx = record.get("context") or {}
    failed = ctx.get("success") is False or ctx.get("healthy") is False
    return failed and ctx.get("error_type") not in USER_ERROR_TYPES


def _type(record: Rec) -> str:
    ctx = record.get("context") or {}
    return str(ctx.get("error_type") or (record.get("error") or {}).get("type") or "unknown")


def test_exchange_failures_agree_across_tables(doc: dict[str, Any], records: list[Rec]) -> None:
    """Failed exchange calls by type are the same number in exchanges, failure types and a count of the records."""
    expected = Counter(_type(r) for r in records if r.get("event") == "exchange_api_call" and _failed(r))
    by_exchanges: Counter[str] = Counter()
    for row in doc["exchanges"]["exchanges"]:
        by_exchanges.update(row["errors_by_type"])
    by_types = {row["type"]: row["failures"] for row in doc["performance"]["failure_types"]
                if row["event"] == "exchange_api_call"}
    assert dict(expected) == dict(by_exchanges) == by_types
    assert sum(row["rate_limit_hits"] for row in doc["exchanges"]["exchanges"]) == expected["rate_limit"]


def test_failures_per_service_agree_between_health_and_performance(doc: dict[str, Any], records: list[Rec]) -> None:
    """A service's failures and errors are the same in health, the error-rate table and a count of the records."""
    expected = Counter(r["service"] for r in records if _failed(r))
    errors = Counter(r["service"] for r in records if r["level"] in ("ERROR", "CRITICAL"))
    per_module: Counter[str] = Counter()
    module_errors: Counter[str] = Counter()
    for row in doc["performance"]["error_rates"]:
        per_module[row["service"]] += row["failures"]
        module_errors[row["service"]] += row["errors"]
    health = {s["service"]: (s["facts"]["failures"], s["facts"]["errors"]) for s in doc["health"]["services"]}
    assert health == {s: (expected[s], errors[s]) for s in health} == {
        s: (per_module[s], module_errors[s]) for s in health}


def test_incident_causes_count_the_failed_records(doc: dict[str, Any], records: list[Rec]) -> None:
    """The storm's cause count is the number of failed binance calls between the incident's first and last failure."""
    storm = next(i for i in doc["performance"]["incidents"] if i["top_causes"][0]["type"] == "rate_limit")
    cause = storm["top_causes"][0]
    inside = [r for r in records if r.get("event") == "exchange_api_call" and _failed(r) and _type(r) == "rate_limit"
              and (r["context"] or {}).get("exchange") == "binance"
              and storm["start"] <= r["timestamp"] <= storm["end"]]
    assert (cause["exchange"], cause["failures"]) == ("binance", len(inside))
    assert storm["start"] == min(r["timestamp"] for r in inside) and storm["end"] == max(r["timestamp"] for r in inside)


def test_incident_does_not_move_when_the_range_grows(log_dir: Path, doc: dict[str, Any]) -> None:
    """Start, end, recovery time and failures of an incident are the same over a narrow range and the whole."""
    whole = next(i for i in doc["performance"]["incidents"] if i["top_causes"][0]["type"] == "rate_limit")
    start = datetime.fromisoformat(whole["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(whole["end"].replace("Z", "+00:00"))
    ds = load([str(log_dir)], Filters(since=start - timedelta(seconds=30), until=end + timedelta(seconds=30)))
    try:
        narrow = build_dashboard(ds, NOW)["performance"]["incidents"]
    finally:
        ds.close()
    keys = ("start", "end", "recovery_seconds", "failures", "top_causes")
    assert [{k: i[k] for k in keys} for i in narrow] == [{k: whole[k] for k in keys}]


def _record(ts: str, service: str, level: str, message: str, event: str, **context: Any) -> bytes:
    return orjson.dumps({"timestamp": ts, "service": service, "module": "m", "level": level, "message": message,
                         "context": context, "event": event}) + b"\n"


def test_user_mistakes_count_against_no_service(tmp_path: Path) -> None:
    """An unknown symbol typed by a user is a user mistake: both services keep full availability, alike."""
    lines = []
    for second in range(7):
        ts = f"2025-01-15T10:00:0{second}.000Z"
        lines.append(_record(ts, "market-data", "INFO", "GET /price 404", "http_request", method="GET",
                             path="/price/{symbol}", status_code=404, response_time_ms=3.0))
        lines.append(_record(ts, "telegram-bot", "WARNING", "market-data price -> 404", "market_data_response",
                             status_code=404, success=False, response_time_ms=5.0))
        lines.append(_record(ts, "telegram-bot", "WARNING", "/price failed", "bot_command", command="price",
                             success=False, error_type="unknown_symbol", response_time_ms=6.0))
        lines.append(_record(ts, "telegram-bot", "INFO", "/price", "bot_command", command="price", success=True,
                             response_time_ms=6.0))
        lines.append(_record(ts, "market-data", "INFO", "GET /price 200", "http_request", method="GET",
                             path="/price/{symbol}", status_code=200, response_time_ms=3.0))
    (tmp_path / "x.log").write_bytes(b"".join(lines))
    result = CliRunner().invoke(main, ["health", str(tmp_path), "--format", "json", "--no-cache"])
    services = {s["service"]: s for s in orjson.loads(result.stdout)["services"]}
    assert {name: (s["components"]["availability"], s["facts"]["failures"], s["facts"]["user_mistakes"])
            for name, s in services.items()} == {"market-data": (100.0, 0, 7), "telegram-bot": (100.0, 0, 14)}
