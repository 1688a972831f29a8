"""The state database: one monitor at a time, bounded alert memory, and what /metrics shows of it."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crypto_observability.log_monitor.cli import main
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.engine import Engine
from crypto_observability.log_monitor.errors import StateError
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier
from crypto_observability.log_monitor.rules_logs import Signal

T0 = 1_736_937_000.0
STAMP = "2025-01-15T10:30:00.000Z"


def _cfg(tmp_path: Path, rules: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
    return parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "app.log")],
            "start_at": "beginning",
            "rules": rules or [],
            **extra,
        }
    )


def test_a_second_monitor_on_the_same_state_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """While one monitor holds the state, another fails at once naming the holder's PID; after close it may start."""
    first = Monitor(_cfg(tmp_path), notifiers={})
    with pytest.raises(StateError) as err:
        Monitor(_cfg(tmp_path), notifiers={})
    assert f"(pid {os.getpid()})" in str(err.value)
    first.close()
    Monitor(_cfg(tmp_path), notifiers={}).close()


def test_run_from_the_command_line_exits_3_when_the_state_is_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`log-monitor run` against a held state exits with the state error code, naming the PID."""
    (tmp_path / "app.log").touch()
    config = tmp_path / "m.yml"
    config.write_text(f"state_db: {tmp_path}/s.db\nsources: [{tmp_path}/app.log]\n")
    holder = Monitor(_cfg(tmp_path), notifiers={})
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["run", "--once", "--config", str(config)])
    finally:
        holder.close()
    assert exit_.value.code == 3
    assert f"(pid {os.getpid()})" in capsys.readouterr().err


def test_resolved_alerts_are_evicted_after_retention_and_history_keeps_them(tmp_path: Path) -> None:
    """300 one-off fingerprints fire and resolve; after `resolved_retention` none is held in memory or in the table."""
    clock = FakeClock(T0)
    rules = [{"name": "new", "type": "new_fingerprint", "hold": 10}]
    m = Monitor(_cfg(tmp_path, rules, resolved_retention=60), clock=clock, notifiers={"console": RecordingNotifier()})
    lines = [
        orjson.dumps({"timestamp": STAMP, "service": "s", "level": "ERROR", "error": {"fingerprint": f"fp{i}"}})
        for i in range(300)
    ]
    (tmp_path / "app.log").write_bytes(b"\n".join(lines) + b"\n")
    m.step()
    assert len(m.engine.alerts) == 300
    clock.advance(40)
    m.step()  # resolved (hold 10 s) and closed at T0 + 40
    clock.advance(59)
    m.step()
    assert len(m.engine.alerts) == 300
    clock.advance(1)
    m.step()
    assert m.engine.alerts == {} and m.engine.open == {"new": set()}
    m.close()
    db = sqlite3.connect(tmp_path / "s.db")
    moves = [orjson.loads(d)["new"] for (d,) in db.execute("SELECT detail FROM history WHERE kind='transition'")]
    assert (db.execute("SELECT count(*) FROM alerts").fetchone()[0], moves.count("firing")) == (0, 300)
    db.close()


def test_closed_alerts_held_are_capped_and_a_step_does_not_visit_them(tmp_path: Path) -> None:
    """Beyond `max_closed`, the oldest closed alerts go at once; open ones are never evicted."""
    cfg = _cfg(tmp_path, [{"name": "r", "type": "match", "where": {"level": "E"}}])
    engine = Engine(cfg, [], max_closed=50)
    for i in range(200):
        engine.observe({"r": [Signal({"k": str(i)}, 1.0, "s")]}, T0 + i)
        engine.observe({"r": []}, T0 + i)  # pending -> inactive: closed
        engine.notify(T0 + i, [])
    engine.observe({"r": [Signal({"k": "open"}, 1.0, "s")]}, T0 + 300)
    engine.notify(T0 + 300, [])
    assert len(engine.alerts) == 51 and len(engine.open["r"]) == 1


def test_metrics_endpoint_is_scraped_and_parsed_by_prometheus_client(tmp_path: Path) -> None:
    """/metrics during `run` exposes lines, parse errors, rule evaluations, alerts by state and outbox figures."""
    rules = [{"name": "err", "type": "match", "where": {"level": "ERROR"}}]
    cfg = _cfg(tmp_path, rules, metrics={"port": 0}, poll_interval=0.05)
    lines = [orjson.dumps({"timestamp": STAMP, "service": "s", "level": "ERROR"}), b"not json"]
    (tmp_path / "app.log").write_bytes(b"\n".join(lines) + b"\n")
    m = Monitor(cfg, clock=FakeClock(T0), notifiers={"console": RecordingNotifier()})
    stop = threading.Event()
    runner = threading.Thread(target=m.run, kwargs={"stop": stop})
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while m.metrics_port is None and time.monotonic() < deadline:
            time.sleep(0.01)
        families: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        while time.monotonic() < deadline:  # until the first batch is committed and the row delivered
            text = httpx.get(f"http://127.0.0.1:{m.metrics_port}/metrics", timeout=5).text
            families = {
                f.name: {(s.name, tuple(sorted(s.labels.items()))): s.value for s in f.samples}
                for f in text_string_to_metric_families(text)
            }
            if families["log_monitor_notifications"].get(
                ("log_monitor_notifications_total", (("channel", "console"), ("outcome", "sent")))
            ):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join(10)
        m.close()
    assert families["log_monitor_lines"] == {("log_monitor_lines_total", ()): 2.0}
    assert families["log_monitor_parse_errors"] == {("log_monitor_parse_errors_total", ()): 1.0}
    assert families["log_monitor_records"] == {("log_monitor_records_total", (("service", "s"),)): 1.0}
    assert families["log_monitor_rule_evaluations"][("log_monitor_rule_evaluations_total", (("rule", "err"),))] >= 1
    assert families["log_monitor_alerts"][("log_monitor_alerts", (("state", "firing"),))] == 1.0
    assert families["log_monitor_outbox_depth"] == {("log_monitor_outbox_depth", ()): 0.0}
    assert {"log_monitor_lag_seconds", "log_monitor_heartbeat_timestamp_seconds"} <= families.keys()
