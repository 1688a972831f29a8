"""Alert lifecycle through the whole monitor: pending, firing, resolved, flapping, ack, silence, inhibition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.cli import main
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.errors import ConfigError
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier

T0 = 1_736_937_000.0  # 2025-01-15T10:30:00Z


def _line(level: str, service: str = "market-data") -> bytes:
    return (
        orjson.dumps(
            {
                "timestamp": "2025-01-15T10:30:00.000Z",
                "service": service,
                "module": "m",
                "level": level,
                "message": "boom api_key=SECRET",
                "context": {},
            }
        )
        + b"\n"
    )


def _monitor(tmp_path: Path, rec: RecordingNotifier, clock: FakeClock, **extra: Any) -> Monitor:
    cfg = parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "*.log")],
            "start_at": "beginning",
            "flap": {"window": "10m", "threshold": 4},
            "rules": [
                {"name": "errors", "type": "match", "where": {"level": "ERROR"}, "window": "1m", "for": "30s", **extra}
            ],
        }
    )
    return Monitor(cfg, clock=clock, notifiers={"console": rec})


def _reasons(rec: RecordingNotifier) -> list[str]:
    return [n["notification_reason"] for n in rec.sent]


def test_pending_then_firing_then_resolved(tmp_path: Path) -> None:
    """An alert waits `for` before firing, is sent once, then resolves and says so; text is redacted."""
    clock, rec = FakeClock(T0), RecordingNotifier()
    m = _monitor(tmp_path, rec, clock)
    (tmp_path / "a.log").write_bytes(_line("ERROR"))
    m.step()
    assert m.engine.alerts and next(iter(m.engine.alerts.values()))["state"] == "pending"
    clock.advance(31)
    m.step(), m.deliver()
    clock.advance(120)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing", "resolved"]
    assert "SECRET" not in orjson.dumps(rec.sent).decode()


def test_flapping_alert_is_held_open_with_one_notice(tmp_path: Path) -> None:
    """Fire/resolve churn becomes one 'flapping' notice; it resolves only after a quiet window."""
    clock, rec = FakeClock(T0), RecordingNotifier()
    m = _monitor(tmp_path, rec, clock, **{"for": 0})
    log = tmp_path / "a.log"
    for _ in range(4):
        stamp = clock.now
        rec_line = orjson.loads(_line("ERROR"))
        rec_line["timestamp"] = _iso(stamp)
        with open(log, "ab") as f:
            f.write(orjson.dumps(rec_line) + b"\n")
        m.step(), m.deliver()
        clock.advance(90)
        m.step(), m.deliver()
    assert _reasons(rec) == ["firing", "resolved", "firing", "flapping"]
    clock.advance(700)
    m.step(), m.deliver()
    assert _reasons(rec)[-1] == "resolved"


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_ack_stops_repeats_and_silence_mutes(tmp_path: Path) -> None:
    """An acknowledged alert is not repeated; a silenced one is recorded as suppressed, not sent."""
    clock, rec = FakeClock(T0), RecordingNotifier()
    m = _monitor(tmp_path, rec, clock, **{"for": 0, "repeat_interval": "10s", "window": "1h"})
    (tmp_path / "a.log").write_bytes(_line("ERROR"))
    m.step(), m.deliver()
    clock.advance(11)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing", "repeat"]
    aid = m.store.alerts()[0]["id"]
    commands.ack(m.store, aid, by="ops", comment="looking", clock=clock)
    clock.advance(11)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing", "repeat"]
    commands.silence(m.store, "service=other-service", "2h", by="ops", comment="", clock=clock)
    with pytest.raises(ConfigError, match="not valid"):
        commands.parse_matchers("service")
    kinds = [h["kind"] for h in commands.history(m.store)]
    assert "ack" in kinds and "transition" in kinds and "delivery" in kinds


def test_check_config_names_key_value_and_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad rule is reported with its key path, the bad value and what is allowed; exit code 2."""
    bad = tmp_path / "m.yml"
    bad.write_text("sources: [x]\nrules:\n  - {name: r, type: error_rate, threshold: 3}\n")
    with pytest.raises(SystemExit) as exc:
        main(["check-config", "--config", str(bad)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "rules[0].threshold" in err and "(got 3)" in err and "less than or equal to 1" in err


def test_default_config_is_valid() -> None:
    """The shipped config/monitor.yml validates."""
    cfg = commands.check_config("config/monitor.yml", {"LOG_DIR": "logs"})
    assert {r.type for r in cfg.rules} >= {"absence", "error_rate", "percentile", "match", "new_fingerprint"}


def test_service_down_inhibits_its_error_alerts_and_says_so(tmp_path: Path) -> None:
    """A silent (down) service's error-rate alert is not sent; history names the inhibiting alert."""
    clock, rec = FakeClock(T0), RecordingNotifier()
    cfg = parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "a.log")],
            "start_at": "beginning",
            "rules": [
                {
                    "name": "service_silent",
                    "type": "absence",
                    "services": ["market-data", "telegram-bot"],
                    "seconds": 60,
                },
                {"name": "errors", "type": "error_rate", "min_volume": 5, "window": "5m", "for": "60s"},
            ],
            "inhibit": [
                {"source": {"alertname": "service_silent"}, "target": {"rule_type": "error_rate"}, "equal": ["service"]}
            ],
        }
    )
    m = Monitor(cfg, clock=clock, notifiers={"console": rec})
    (tmp_path / "a.log").write_bytes(_line("ERROR") * 10 + _line("INFO", "telegram-bot"))
    m.step(), m.deliver()
    with open(tmp_path / "a.log", "ab") as f:
        f.write(_line("INFO", "telegram-bot").replace(b"10:30:00", b"10:31:00"))
    clock.advance(61)
    m.step(), m.deliver()
    sent = [
        (n["notification_reason"], a["labels"]["alertname"], a["labels"]["service"])
        for n in rec.sent
        for a in n["alerts"]
    ]
    assert sent == [("firing", "service_silent", "market-data")]
    errors = next(a for a in m.engine.alerts.values() if a["rule"] == "errors")
    assert errors["state"] == "firing"
    suppressed = [h["detail"] for h in commands.history(m.store) if h["kind"] == "suppressed"]
    assert len(suppressed) == 1
    assert suppressed[0]["by"].startswith("inhibited by service_silent (no logs from market-data for 61s")
    shown = {a["rule"]: a["suppressed"] for a in commands.status(m.store, clock=clock)["alerts"]}
    assert shown["errors"] == suppressed[0]["by"] and shown["service_silent"] is None
