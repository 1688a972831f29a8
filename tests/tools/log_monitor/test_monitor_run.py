"""`Monitor.run` with its background sender, and a monitor process killed with SIGKILL and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.store import Store
from crypto_observability.log_monitor.testing import WebhookReceiver

ROOT = Path(__file__).resolve().parents[3]


class Hook(WebhookReceiver):
    """The monitor's webhook endpoint, read as (Idempotency-Key, notification) pairs."""

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return [(headers["Idempotency-Key"], json.loads(body)) for headers, body in self.received]

    def alert_keys(self) -> dict[str, set[str]]:
        """Map each alert's label `n` to the idempotency keys of the notifications that carried it."""
        out: dict[str, set[str]] = {}
        for key, body in self.requests:
            for a in body["alerts"]:
                out.setdefault(a["labels"]["context.n"], set()).add(key)
        return out


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def _line(n: int, level: str = "ERROR") -> bytes:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    rec = {"timestamp": stamp, "service": "s", "module": "m", "level": level, "message": "boom", "context": {"n": n}}
    return orjson.dumps(rec) + b"\n"


def _config(tmp_path: Path, url: str) -> dict[str, Any]:
    return {
        "state_db": str(tmp_path / "state.db"),
        "sources": [str(tmp_path / "app.log")],
        "start_at": "beginning",
        "poll_interval": 0.02,
        "batch_lines": 25,
        "defaults": {"channels": ["hook"]},
        "rules": [{"name": "err", "type": "match", "where": {"level": "ERROR"}, "by": ["context.n"], "window": "1h"}],
        "channels": {"hook": {"type": "webhook", "url": url}},
    }


def _scripted_sleep(steps: list[Callable[[], None]]) -> Callable[[float], None]:
    """A `sleep` for Monitor.run that performs the next scripted action instead of waiting."""

    def sleep(_seconds: float) -> None:
        if steps:
            steps.pop(0)()

    return sleep


def test_run_loop_delivers_one_notification_per_error_line(tmp_path: Path, hook: Hook) -> None:
    """An ERROR line appended to a followed file reaches the webhook once through run()'s sender thread."""
    log = tmp_path / "app.log"
    log.write_bytes(_line(0, "INFO"))
    m = Monitor(parse_config(_config(tmp_path, hook.url)), clock=FakeClock())
    stop = threading.Event()

    def append() -> None:
        with open(log, "ab") as f:
            f.write(_line(1))

    summary = m.run(sleep=_scripted_sleep([append, lambda: hook.arrived.wait(10), lambda: None, stop.set]), stop=stop)
    m.close()
    assert [body["notification_reason"] for _, body in hook.requests] == ["firing"]
    assert hook.alert_keys() == {"1": {hook.requests[0][0]}}
    assert (summary.lines, summary.delivered) == (2, 1)


def test_run_duration_stops_on_the_injected_clock(tmp_path: Path, hook: Hook) -> None:
    """`run(duration=...)` stops once the injected clock says so; nothing pending is left unsent."""
    clock = FakeClock()
    (tmp_path / "app.log").write_bytes(_line(7))
    m = Monitor(parse_config(_config(tmp_path, hook.url)), clock=clock)
    summary = m.run(duration=3, sleep=lambda _s: clock.advance(1))
    m.close()
    assert summary.steps == 4 and summary.delivered == 1
    assert Store(tmp_path / "state.db").outbox("pending") == []


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _start(cfg_path: Path) -> subprocess.Popen[bytes]:
    with open(cfg_path.with_suffix(".err"), "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "crypto_observability.log_monitor", "run", "--config", str(cfg_path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _lines_done(db: Path) -> int:
    store = Store(db)
    try:
        return int((store.get("self") or {}).get("lines", 0))
    finally:
        store.close()


def test_kill_9_mid_stream_then_restart_sends_each_once(tmp_path: Path, hook: Hook) -> None:
    """After SIGKILL and a restart each line is processed and each alert notified once; SIGTERM exits 0."""
    cfg_path = tmp_path / "monitor.yml"
    cfg_path.write_text(json.dumps(_config(tmp_path, hook.url)))  # JSON is YAML
    log, db, total = tmp_path / "app.log", tmp_path / "state.db", 400
    with open(log, "ab") as f:
        f.write(b"".join(_line(n) for n in range(150)))
    proc = _start(cfg_path)
    try:
        _wait(lambda: len(hook.requests) >= 2)
        with open(log, "ab") as f:
            f.write(b"".join(_line(n) for n in range(150, 250)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        with open(log, "ab") as f:
            f.write(b"".join(_line(n) for n in range(250, total)))
        proc = _start(cfg_path)
        _wait(lambda: len(hook.alert_keys()) == total and _lines_done(db) == total)
        proc.send_signal(signal.SIGTERM)  # as `docker stop`: finish the batch, exit 0
        assert proc.wait(10) == 0, cfg_path.with_suffix(".err").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    keys = hook.alert_keys()
    assert sorted(keys, key=int) == [str(n) for n in range(total)]
    assert all(len(k) == 1 for k in keys.values()), "an alert was notified twice under different keys"
    store = Store(db)
    alerts = store.alerts()
    store.close()
    assert len(alerts) == total
    assert {a["value"] for a in alerts} == {1}, "a line was counted twice"
    assert _lines_done(db) == total
