"""What `make demo` prints is read back from the logs and the monitor's notifications alone."""

from __future__ import annotations

from pathlib import Path

import orjson

from services.demo.alerts import open_alerts
from services.demo.summary import summarise


def _alert(name: str, status: str) -> dict[str, object]:
    return {"alerts": [{"labels": {"alertname": name, "service": "market-data"}, "status": status}]}


def test_an_alert_is_open_until_its_latest_notification_resolves_it() -> None:
    """Fired then resolved is closed; fired alone is open."""
    notes = [_alert("rate", "firing"), _alert("latency", "firing"), _alert("rate", "resolved")]
    assert [label for label in open_alerts(notes)] == ['{"alertname": "latency", "service": "market-data"}']
    assert open_alerts([]) == set()


def _line(**fields: object) -> bytes:
    base = {"timestamp": "2025-01-15T10:30:00.000Z", "level": "INFO", "message": "m", "context": {}}
    return orjson.dumps({**base, **fields}) + b"\n"


def test_summary_counts_events_journeys_and_finds_leaks(tmp_path: Path) -> None:
    """Commands, rate limits, slow calls and cross-service journeys are counted; a leaked id is caught."""
    (tmp_path / "telegram-bot.log").write_bytes(
        _line(service="telegram-bot", event="bot_command", request_id="r1", context={"success": True})
        + _line(service="telegram-bot", event="security_event", context={"kind": "unauthorized_command"})
        + b"not json\n")
    (tmp_path / "market-data.log").write_bytes(
        _line(service="market-data", event="exchange_api_call", request_id="r1",
              context={"exchange": "okx", "success": True, "response_time_ms": 1500.0})
        + _line(service="market-data", event="rate_limit_hit", context={"exchange": "bybit"})
        + _line(service="market-data", message="user 100001 said hi"))
    summary = summarise(tmp_path, secrets=["TOKEN-THAT-IS-ABSENT"], raw_user_ids=[100001, 100002])
    assert summary.commands[True] == 1 and summary.security["unauthorized_command"] == 1
    assert summary.rate_limits["bybit"] == 1 and summary.slow_calls["okx"] == 1
    assert summary.cross_service_journeys == 1
    assert summary.leaks == ["user id 100001"]


def test_a_user_id_inside_a_random_request_id_or_a_price_is_not_a_leak(tmp_path: Path) -> None:
    """Leaked ids are whole values of a record's structure: digits inside a hex id or a decimal do not count."""
    (tmp_path / "market-data.log").write_bytes(
        _line(service="market-data", request_id="4f2a100009c1d3e5b7a9", message="price 100003.25",
              context={"trace": "ab100004", "span": "100005f"})
        + _line(service="market-data", message="Chat(id=100006, type=private)", context={"chat": 100007})
        + _line(service="market-data", message="m", context={"ids": ["x", "100008"]})
        + b"stray text about user 100002.\n")
    ids = [100002, 100003, 100004, 100005, 100006, 100007, 100008, 100009]
    summary = summarise(tmp_path, secrets=[], raw_user_ids=ids)
    assert summary.leaks == ["user id 100002", "user id 100006", "user id 100007", "user id 100008"]


def test_the_printed_summary_shows_counts_as_words_not_python_dicts(tmp_path: Path) -> None:
    """Refusals, statuses and failures read "name count", never a dict repr like {'rate_limit': 10}."""
    import io

    from rich.console import Console

    from services.demo.report import print_summary

    (tmp_path / "market-data.log").write_bytes(
        _line(service="market-data", event="exchange_api_call",
              context={"exchange": "bybit", "success": False, "error_type": "rate_limit"})
        + _line(service="telegram-bot", event="security_event", context={"kind": "unauthorized_command"}))
    out = io.StringIO()
    print_summary(Console(file=out, width=200), summarise(tmp_path, secrets=[], raw_user_ids=[]), {}, tmp_path)
    text = out.getvalue()
    assert "{" not in text and "refused: unauthorized_command 1" in text
    assert "rate_limit 1" in text
