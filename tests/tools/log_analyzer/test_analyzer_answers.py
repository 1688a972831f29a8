"""The answers say what they count: labels under filters, counts instead of extrapolated rates, why a journey
failed, freshness only for live logs, and an empty table named rather than drawn."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import main


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def _rec(second: int, level: str = "INFO", message: str = "m", **extra: Any) -> dict[str, Any]:
    return {"timestamp": f"2025-01-15T10:{second // 60:02d}:{second % 60:02d}.000Z", "service": "telegram-bot",
            "module": "bot", "level": level, "message": message, "context": {}, **extra}


def _json(*args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--no-cache", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_error_patterns_say_what_they_count_under_a_level_filter(tmp_path: Path) -> None:
    """``errors --level ERROR+`` counts records at ERROR and CRITICAL and says so (not 'WARNING+')."""
    _write(tmp_path / "x.log", [_rec(1, "WARNING", "w"), _rec(2, "ERROR", "e"), _rec(3, "CRITICAL", "c")])
    assert _json("errors", str(tmp_path))["counts"] == "problems (WARNING+ records)"
    filtered = _json("errors", str(tmp_path), "--level", "ERROR+")
    assert (filtered["counts"], filtered["total"]) == ("records at ERROR, CRITICAL", 2)


def test_a_short_span_gives_a_count_not_an_extrapolated_rate(tmp_path: Path) -> None:
    """One CRITICAL record over four minutes is a count of 1, with no per-hour rate."""
    _write(tmp_path / "x.log", [_rec(0), _rec(120, "CRITICAL", "c"), _rec(240)])
    assert _json("performance", str(tmp_path))["critical"] == {"count": 1, "span_hours": 0.067, "per_hour": None}


def test_a_failed_journey_says_why_and_names_its_steps(tmp_path: Path) -> None:
    """A failed journey gives the failure type and the step that failed; a step without event is named by message."""
    _write(tmp_path / "x.log", [
        _rec(1, message="update received", request_id="r1", user="u_1"),
        _rec(2, "WARNING", "/price failed", request_id="r1", user="u_1", event="bot_command",
             context={"command": "price", "success": False, "error_type": "timeout", "response_time_ms": 9.0})])
    failed = _json("journeys", str(tmp_path))["failures"]
    assert [(j["why"], j["slowest_step"]["event"]) for j in failed] == [
        ("timeout at bot_command (telegram-bot)", "bot_command")]
    first = _json("journeys", str(tmp_path))["slowest"][0]["steps"][0]
    assert first["event"] is None and first["message"] == "update received"


def test_freshness_is_scored_only_when_the_range_reaches_the_present(tmp_path: Path) -> None:
    """Last week's files leave freshness out and say so, instead of scoring it 0."""
    _write(tmp_path / "x.log", [_rec(s) for s in range(10)])
    old = 1736935200  # 2025-01-15, long before now
    os.utime(tmp_path / "x.log", (old, old))
    health = _json("health", str(tmp_path))
    assert (health["live"], health["services"][0]["components"]["freshness"]) == (False, None)
    assert "freshness not scored" in health["freshness_note"]


def test_an_empty_table_is_named_not_drawn(tmp_path: Path) -> None:
    """A table whose events are absent from the input says 'none in the input' instead of an empty frame."""
    _write(tmp_path / "x.log", [_rec(s) for s in range(3)])
    result = CliRunner().invoke(main, ["performance", str(tmp_path), "--no-cache"], env={"COLUMNS": "200"})
    assert "Cache: none in the input" in result.stdout and "Connectivity: none in the input" in result.stdout
