"""``log-analyzer trace``: one request as a timeline, on the terminal, as JSON, and in the HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.html_report import render_html
from crypto_observability.log_analyzer.trace import build_trace, render_trace_text, step_from_record
from crypto_observability.log_analyzer.trace_html import anchor, journey_traces_html


def _record(ms: int, service: str, event: str, level: str = "INFO", **context: Any) -> dict[str, Any]:
    return {"timestamp": f"2025-01-15T10:00:00.{ms:03d}Z", "service": service, "module": "m", "level": level,
            "message": f"{event} \x1b[31mred", "context": context, "event": event, "request_id": "r1",
            "user": "u_0123456789abcdef"}


JOURNEY = [
    _record(0, "telegram-bot", "market_data_request"),
    _record(300, "market-data", "exchange_api_call", "WARNING", exchange="bybit", method="fetch_ticker",
            symbol="BTC/USDT", success=False, error_type="rate_limit", response_time_ms=250.0),
    _record(420, "market-data", "exchange_api_call", exchange="okx", method="fetch_ticker", symbol="BTC/USDT",
            success=True, response_time_ms=100.0),
    _record(430, "market-data", "http_request", status_code=200, response_time_ms=420.0),
    _record(450, "telegram-bot", "bot_command", command="/price", success=True, response_time_ms=455.0),
]


def test_a_trace_places_each_step_on_one_timeline() -> None:
    """Offsets count from the earliest start (a timed step starts its duration before its record); marks set."""
    trace = build_trace("r1", [step_from_record(r) for r in JOURNEY])
    assert trace["start"] == "2025-01-15T09:59:59.995Z"
    assert [(s["start_ms"], s["offset_ms"], s["duration_ms"]) for s in trace["steps"]] == [
        (5.0, 5.0, 0.0), (55.0, 305.0, 250.0), (325.0, 425.0, 100.0), (15.0, 435.0, 420.0), (0.0, 455.0, 455.0)]
    assert trace["duration_ms"] == 455.0 and trace["services"] == ["telegram-bot", "market-data"]
    assert trace["slowest_step"] == 1 and trace["failure_step"] == 1 and trace["failed"]
    assert [(c["exchange"], c["success"]) for c in trace["exchange_calls"]] == [("bybit", False), ("okx", True)]


def test_the_terminal_waterfall_marks_the_slow_step_and_the_failure_and_strips_control_characters() -> None:
    """Each step is one line with its bar; the slow and failed step say so; logged escape codes are shown escaped."""
    text = render_trace_text(build_trace("r1", [step_from_record(r) for r in JOURNEY]))
    lines = text.splitlines()
    bybit = next(line for line in lines if "bybit" in line and "+305 ms" in line)
    assert "✗ failed" in bybit and "◀ slowest (+300 ms)" in bybit and "█" in bybit
    assert "\x1b" not in text and "exchange calls: bybit fetch_ticker rate_limit, okx fetch_ticker ok" in text


def test_trace_cli_finds_a_journey_across_services_in_rotated_files(log_dir: Path, tmp_path: Path,
                                                                    records: list[dict[str, Any]]) -> None:
    """trace REQUEST_ID --format json has every record of a failed cross-service journey, in order."""
    failed = next(r["request_id"] for r in records if r.get("request_id") and r["service"] == "market-data"
                  and r["context"].get("success") is False)
    result = CliRunner().invoke(main, ["trace", failed, str(log_dir), "--format", "json", "--cache-dir",
                                       str(tmp_path)])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    mine = [r for r in records if r.get("request_id") == failed]
    assert [s["time"] for s in trace["steps"]] == [r["timestamp"] for r in mine]
    assert trace["failed"] and set(trace["services"]) == {"telegram-bot", "market-data"}
    missing = CliRunner().invoke(main, ["trace", "no-such-id", str(log_dir), "--no-cache"])
    assert missing.exit_code == 1 and "no records with request_id no-such-id" in missing.stdout


def test_trace_slowest_picks_the_journeys_slowest(log_dir: Path, tmp_path: Path) -> None:
    """trace --slowest traces the first journey of the journeys analysis's slowest list (what the demo prints)."""
    journeys = CliRunner().invoke(main, ["journeys", str(log_dir), "--format", "json", "--no-cache"])
    slowest = json.loads(journeys.stdout)["slowest"][0]
    result = CliRunner().invoke(main, ["trace", "--slowest", str(log_dir), "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    assert trace["request_id"] == slowest["request_id"] and len(trace["steps"]) == slowest["events"]


def test_the_html_report_links_slowest_and_failed_journeys_to_their_waterfalls() -> None:
    """The report's trace section links each slowest and failed journey to a waterfall with that id; text escaped."""
    steps = [{k: v for k, v in step_from_record(r).items() if k != "exchange"} for r in JOURNEY]
    row = {"request_id": "r1<x>", "duration_ms": 455.0, "steps": steps}
    html = journey_traces_html({"slowest": [row], "failures": [row]})
    assert html.count(f'href="#{anchor("r1<x>")}"') == 2 and html.count(f'id="{anchor("r1<x>")}"') == 1
    assert "<x>" not in html and "&lt;x&gt;" in html


def test_the_report_page_carries_the_trace_section(log_dir: Path) -> None:
    """render_html includes the journey traces section with one waterfall per listed journey."""
    result = CliRunner().invoke(main, ["report", str(log_dir), "--format", "json", "--no-cache"])
    doc = json.loads(result.stdout)
    html = render_html(doc)
    listed = {j["request_id"] for j in doc["journeys"]["slowest"] + doc["journeys"]["failures"]}
    assert 'id="journey-traces"' in html and all(f'id="{anchor(rid)}"' in html for rid in listed)
