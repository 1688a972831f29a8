"""Log rules through the whole Monitor: percentile, error rate, absence, new fingerprint, hour-of-day baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier

T0 = 1_736_937_000.0  # 2025-01-15T10:30:00Z


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Env:
    """A log file, a fake clock, a recording notifier and a monitor over them."""

    def __init__(self, tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> None:
        self.log, self.clock, self.rec = tmp_path / "app.log", FakeClock(T0), RecordingNotifier()
        cfg = parse_config(
            {"state_db": str(tmp_path / "s.db"), "sources": [str(self.log)], "start_at": "beginning"}
            | {"rules": rules}
            | top
        )
        self.monitor = Monitor(cfg, clock=self.clock, notifiers={"console": self.rec})

    def write(self, n: int = 1, *, ts: float | None = None, **fields: Any) -> None:
        """Append `n` records stamped `ts` (default: now) with `fields` over a market-data INFO base."""
        rec = {"service": "market-data", "module": "api", "level": "INFO", "message": "ok", "context": {}} | fields
        rec["timestamp"] = _iso(self.clock.now if ts is None else ts)
        with open(self.log, "ab") as f:
            f.write((orjson.dumps(rec) + b"\n") * n)

    def tick(self, seconds: float = 0.0) -> None:
        """Advance the clock, process what is there, and deliver."""
        self.clock.advance(seconds)
        self.monitor.step()
        self.monitor.deliver()

    def reasons(self) -> list[str]:
        return [n["notification_reason"] for n in self.rec.sent]

    def summaries(self) -> list[str]:
        return [a["annotations"]["summary"] for n in self.rec.sent for a in n["alerts"]]


def test_percentile_above_threshold_for_duration_fires_then_resolves(tmp_path: Path) -> None:
    """p95 response time above the threshold for the whole `for` fires once; fast requests resolve it."""
    env = Env(
        tmp_path,
        [
            {
                "name": "lat",
                "type": "percentile",
                "service": "market-data",
                "event": "http_request",
                "threshold": 1000,
                "window": "5m",
                "min_count": 5,
                "for": "5m",
            }
        ],
    )
    slow = {"event": "http_request", "context": {"response_time_ms": 2500}}
    for _ in range(5):
        env.write(10, **slow)
        env.tick(60)
    assert env.reasons() == [], "fired before `for` elapsed"
    env.write(10, **slow)
    env.tick(60)
    assert env.reasons() == ["firing"]
    assert "p95 context.response_time_ms" in env.summaries()[0] and "above 1000" in env.summaries()[0]
    for _ in range(6):
        env.write(20, event="http_request", context={"response_time_ms": 40})
        env.tick(60)
    assert env.reasons() == ["firing", "resolved"]


def test_percentile_ignores_other_events_and_low_counts(tmp_path: Path) -> None:
    """Slow records of another event, or fewer than min_count samples, never start an alert."""
    env = Env(
        tmp_path, [{"name": "lat", "type": "percentile", "event": "http_request", "threshold": 10, "min_count": 5}]
    )
    env.write(50, event="bot_command", context={"response_time_ms": 9000})
    env.write(4, event="http_request", context={"response_time_ms": 9000})
    env.tick()
    assert env.monitor.engine.alerts == {}


def test_error_rate_needs_minimum_volume(tmp_path: Path) -> None:
    """One error out of one request is no page; a real spike over the minimum volume fires."""
    env = Env(tmp_path, [{"name": "err", "type": "error_rate", "threshold": 0.05, "min_volume": 20}])
    env.write(level="ERROR", message="night blip")
    env.tick(1)
    assert env.monitor.engine.alerts == {} and env.reasons() == []
    env.write(20)
    env.write(9, level="ERROR")
    env.tick(1)
    assert env.reasons() == ["firing"]
    assert env.rec.sent[0]["alerts"][0]["labels"]["service"] == "market-data"
    assert "error rate 33.3% (10/30)" in env.summaries()[0]


def test_absence_fires_after_silence_and_a_new_line_resolves(tmp_path: Path) -> None:
    """No logs from a service for N seconds fires, naming it; its next line resolves the alert."""
    env = Env(tmp_path, [{"name": "quiet", "type": "absence", "services": ["market-data"], "seconds": 60}])
    env.write()
    env.tick()
    env.tick(59)
    assert env.reasons() == []
    env.tick(2)
    assert env.reasons() == ["firing"]
    assert "no logs from market-data for 61s" in env.summaries()[0]
    env.write()
    env.tick(1)
    assert env.reasons() == ["firing", "resolved"]


def test_absence_counts_from_start_for_a_service_never_seen(tmp_path: Path) -> None:
    """A service that never logged is missing `seconds` after the monitor started."""
    env = Env(tmp_path, [{"name": "quiet", "type": "absence", "services": ["telegram-bot"], "seconds": 30}])
    env.write()
    env.tick()
    env.tick(31)
    assert env.reasons() == ["firing"]
    assert env.rec.sent[0]["alerts"][0]["labels"]["service"] == "telegram-bot"


def test_new_fingerprint_fires_once_and_is_then_known(tmp_path: Path) -> None:
    """A never-seen error fingerprint fires once; repeats do not re-fire, even after `hold` resolves it."""
    env = Env(tmp_path, [{"name": "newerr", "type": "new_fingerprint", "hold": "10m"}])
    err = {"level": "ERROR", "message": "KeyError: 'price'", "error": {"type": "KeyError", "fingerprint": "fp1"}}
    env.write(**err)
    env.tick()
    env.write(3, **err)
    env.tick(60)
    assert env.reasons() == ["firing"]
    labels = env.rec.sent[0]["alerts"][0]["labels"]
    assert labels["error_fingerprint"] == "fp1" and labels["service"] == "market-data"
    assert "new error KeyError fp1" in env.summaries()[0]
    env.tick(600)
    env.write(**err)
    env.tick(1)
    assert env.reasons() == ["firing", "resolved"]
    env.write(**(err | {"error": {"type": "ValueError", "fingerprint": "fp2"}}))
    env.tick(1)
    assert env.reasons() == ["firing", "resolved", "firing"]


def test_new_fingerprint_learns_silently_during_learn_for(tmp_path: Path) -> None:
    """Fingerprints seen while learning are known, not alerts."""
    env = Env(tmp_path, [{"name": "newerr", "type": "new_fingerprint", "learn_for": "10m"}])
    env.write(level="ERROR", error={"fingerprint": "old"})
    env.tick()
    env.tick(601)
    env.write(level="ERROR", error={"fingerprint": "old"})
    env.tick(1)
    assert env.reasons() == []


def _day(env: Env, days_ago: int, n: int, errors: int) -> None:
    ts = T0 - days_ago * 86400
    env.write(n - errors, ts=ts)
    env.write(errors, ts=ts, level="ERROR")


def test_baseline_says_insufficient_history_then_fires_on_spike(tmp_path: Path) -> None:
    """Before min_days of history the rule says so plainly and stays quiet; afterwards a spike fires."""
    env = Env(tmp_path, [{"name": "hod", "type": "error_baseline", "min_days": 3, "factor": 3, "min_errors": 10}])
    _day(env, 0, 100, 20)
    env.tick()
    note = commands.status(env.monitor.store, clock=env.clock)["rules"]["hod"]
    assert note == "market-data: insufficient history (0 of 3 days for this hour)"
    _day(env, 1, 100, 1)
    _day(env, 2, 100, 1)
    env.tick(1)
    assert "insufficient history (2 of 3 days" in commands.status(env.monitor.store, clock=env.clock)["rules"]["hod"]
    assert env.reasons() == []
    _day(env, 3, 100, 1)
    env.tick(1)
    assert env.reasons() == ["firing"]
    assert "error rate 20.0% this hour vs baseline 1.0%" in env.summaries()[0]
    assert (
        commands.status(env.monitor.store, clock=env.clock)["rules"]["hod"] == "market-data: baseline 1.0% from 3 days"
    )


def test_baseline_quiet_when_rate_matches_history(tmp_path: Path) -> None:
    """An error rate like the same hour on previous days is normal, even if high."""
    env = Env(tmp_path, [{"name": "hod", "type": "error_baseline", "min_days": 3, "min_errors": 10}])
    for d in range(4):
        _day(env, d, 100, 20)
    env.tick()
    assert env.reasons() == []


def test_match_sample_is_the_newest_matching_record(tmp_path: Path) -> None:
    """Whatever value matched, the alert's sample is the newest matching record's message."""
    env = Env(tmp_path, [{"name": "bad", "type": "match", "where": {"level": ["ERROR", "CRITICAL"]}}])
    env.write(ts=T0 - 2, level="ERROR", message="older error")
    env.write(ts=T0 - 1, level="CRITICAL", message="newest critical")
    env.write(ts=T0 - 3, level="ERROR", message="late-arriving old error")
    env.tick()
    assert env.rec.sent[0]["alerts"][0]["annotations"]["sample"] == "newest critical"
    assert env.summaries() == ["3 matching record(s) in 60s"]
