"""Rules outside the logs through the whole Monitor: HTTP checks (real server), system metrics, predict_full."""

from __future__ import annotations

import gc
import socket
import threading
import weakref
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier
from crypto_observability.log_monitor.records import Batch
from crypto_observability.log_monitor.rules_system import HttpCheckRule
from crypto_observability.log_monitor.sampler import FixedSampler, Sampler, SystemSampler

T0 = 1_736_937_000.0


class Health:
    """A real HTTP server on 127.0.0.1 answering GET with `status`, or hanging while `hang` is set."""

    def __init__(self) -> None:
        self.status, self.hang, self.release = 200, False, threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.hang:
                    outer.release.wait(5)
                    return
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health() -> Iterator[Health]:
    h = Health()
    yield h
    h.close()


def _monitor(
    tmp_path: Path, rule: dict[str, Any], sampler: Sampler | None = None
) -> tuple[Monitor, FakeClock, RecordingNotifier]:
    clock, rec = FakeClock(T0), RecordingNotifier()
    (tmp_path / "app.log").touch()
    cfg = parse_config({"state_db": str(tmp_path / "s.db"), "sources": [str(tmp_path / "app.log")], "rules": [rule]})
    return Monitor(cfg, clock=clock, notifiers={"console": rec}, sampler=sampler), clock, rec


def _probe(m: Monitor) -> None:
    """Start a probe, wait for it, and fold its result in (the thread pool is real; the clock is not)."""
    m.step()
    m.wait_probes()
    m.step()
    m.deliver()


def _reasons(rec: RecordingNotifier) -> list[str]:
    return [n["notification_reason"] for n in rec.sent]


def _summary(rec: RecordingNotifier, i: int = -1) -> str:
    return str(rec.sent[i]["alerts"][0]["annotations"]["summary"])


def test_http_check_wrong_status_fires_and_healthy_resolves(tmp_path: Path, health: Health) -> None:
    """A 503 from the health endpoint fires naming the status; a 200 on the next interval resolves."""
    rule = {"name": "md_up", "type": "http_check", "url": health.url, "service": "market-data", "interval": "30s"}
    m, clock, rec = _monitor(tmp_path, rule)
    health.status = 503
    _probe(m)
    assert _reasons(rec) == ["firing"]
    assert "market-data health check" in _summary(rec) and "status 503 (expected 200)" in _summary(rec)
    assert rec.sent[0]["alerts"][0]["labels"]["service"] == "market-data"
    health.status = 200
    clock.advance(10)
    _probe(m)
    assert _reasons(rec) == ["firing"], "probed again before the interval"
    clock.advance(20)
    _probe(m)
    assert _reasons(rec) == ["firing", "resolved"]


def test_http_check_timeout_fires(tmp_path: Path, health: Health) -> None:
    """An endpoint that does not answer within `timeout` is a failed check, named as a timeout."""
    rule = {"name": "md_up", "type": "http_check", "url": health.url, "service": "market-data", "timeout": "200ms"}
    m, _, rec = _monitor(tmp_path, rule)
    health.hang = True
    _probe(m)
    assert _reasons(rec) == ["firing"]
    assert "Timeout" in _summary(rec)


def test_http_check_needs_consecutive_failures(tmp_path: Path, health: Health) -> None:
    """With failures: 2, one bad answer is tolerated; the second in a row fires."""
    rule = {"name": "up", "type": "http_check", "url": health.url, "service": "s", "interval": 10, "failures": 2}
    m, clock, rec = _monitor(tmp_path, rule)
    health.status = 500
    _probe(m)
    assert _reasons(rec) == []
    clock.advance(10)
    _probe(m)
    assert _reasons(rec) == ["firing"]


def test_a_failed_probe_keeps_no_batch_alive() -> None:
    """Reading a failed probe leaves no reference cycle holding the batch: it is freed at once, not by a GC pass."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    cfg = parse_config(
        {
            "sources": ["x"],
            "rules": [{"name": "up", "type": "http_check", "url": f"http://127.0.0.1:{port}/", "service": "s"}],
        }
    )
    rule, state = HttpCheckRule(cfg.rules[0]), {}  # type: ignore[arg-type]
    rule.evaluate(Batch(), T0, state)
    rule.wait()
    batch = Batch([{"service": "s"}])
    alive = weakref.ref(batch)
    gc.disable()
    try:
        signals = rule.evaluate(batch, T0 + 1, state)
        del batch
        assert signals and alive() is None
    finally:
        gc.enable()


def _cgroup(root: Path, **files: str) -> SystemSampler:
    for name, text in files.items():
        (root / name.replace("_", ".", 1)).write_text(text + "\n")
    return SystemSampler(cgroup_root=root)


def test_system_memory_uses_cgroup_limit(tmp_path: Path) -> None:
    """Container memory above the threshold (cgroup v2 current/max) fires; falling below resolves."""
    cg = tmp_path / "cg"
    cg.mkdir()
    sampler = _cgroup(cg, memory_max="1000000", memory_current="950000")
    rule = {"name": "mem", "type": "system", "metric": "memory_percent", "threshold": 90, "interval": "15s"}
    m, clock, rec = _monitor(tmp_path, rule, sampler)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing"]
    assert _summary(rec) == "memory_percent 95.0 is above 90"
    (cg / "memory.current").write_text("100000\n")
    clock.advance(15)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing", "resolved"]


def test_system_cpu_from_cgroup_quota(tmp_path: Path) -> None:
    """CPU is usage over the cgroup quota between two samples: 0.45 CPU of a 0.5 CPU quota is 90%."""
    cg = tmp_path / "cg"
    cg.mkdir()
    sampler = _cgroup(cg, cpu_max="50000 100000", cpu_stat="usage_usec 1000000\nuser_usec 1")
    rule = {"name": "cpu", "type": "system", "metric": "cpu_percent", "threshold": 80, "interval": "10s"}
    m, clock, rec = _monitor(tmp_path, rule, sampler)
    m.step(), m.deliver()
    assert _reasons(rec) == [], "a rate needs two samples"
    (cg / "cpu.stat").write_text("usage_usec 5500000\nuser_usec 1\n")
    clock.advance(10)
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing"]
    assert _summary(rec) == "cpu_percent 90.0 is above 80"


def _predict(tmp_path: Path, values: list[float]) -> tuple[Monitor, FakeClock, RecordingNotifier]:
    rule = {
        "name": "disk_full",
        "type": "predict_full",
        "metric": "disk_percent",
        "horizon": "4h",
        "lookback": "1h",
        "interval": "1m",
        "min_samples": 10,
    }
    return _monitor(tmp_path, rule, FixedSampler({"disk_percent": values}))


def _note(m: Monitor, clock: FakeClock) -> str:
    return str(commands.status(m.store, clock=clock)["rules"]["disk_full"])


def test_predict_full_linear_trend_fires(tmp_path: Path) -> None:
    """Disk rising 12 points an hour from 70% is full within 4 h: fires after min_samples, not before."""
    m, clock, rec = _predict(tmp_path, [70 + 0.2 * i for i in range(30)])
    for i in range(9):
        m.step(), m.deliver()
        clock.advance(60)
        assert _note(m, clock) == f"insufficient history ({i + 1} of 10 samples)"
    m.step(), m.deliver()
    assert _reasons(rec) == ["firing"]
    assert _summary(rec).startswith("disk_percent will reach 100% in about 2.")
    assert "(now 71.8%, +12.00 points/h)" in _summary(rec)


def test_predict_full_flat_does_not_fire(tmp_path: Path) -> None:
    """A flat disk at 95% is high but not trending to full: no alert, and the status says so."""
    m, clock, rec = _predict(tmp_path, [95.0])
    for _ in range(20):
        m.step(), m.deliver()
        clock.advance(60)
    assert _reasons(rec) == []
    assert _note(m, clock) == "disk_percent 95.0% and not rising"
