"""Delivery past slow, dead and hostile receivers: independent channels, bounded shutdown, retries, Alertmanager."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import yaml
from aiosmtpd.controller import Controller

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.monitor import SHUTDOWN_GRACE, Monitor
from crypto_observability.log_monitor.notifiers import DeliveryResult, EmailNotifier, RecordingNotifier
from crypto_observability.log_monitor.sender import MAX_BACKOFF, Sender
from crypto_observability.log_monitor.store import Store
from crypto_observability.log_monitor.testing import WebhookReceiver

T0 = 1_736_937_000.0
DATA = Path(__file__).parent / "data"


def _error_line(n: int = 0, **fields: Any) -> bytes:
    stamp = datetime.fromtimestamp(T0).astimezone().isoformat(timespec="milliseconds")
    rec = {"timestamp": stamp[:23] + "Z", "service": "s", "level": "ERROR", "message": "boom", "context": {"n": n}}
    return orjson.dumps({**rec, **fields}) + b"\n"


def _config(tmp_path: Path, channels: dict[str, Any], **extra: Any) -> c.MonitorConfig:
    return c.parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "app.log")],
            "start_at": "beginning",
            "poll_interval": 0.05,
            "rules": [{"name": "err", "type": "match", "where": {"level": "ERROR"}, "window": 60, **extra}],
            "defaults": {"channels": sorted(channels)},
            "channels": channels,
        }
    )


def test_a_slow_channel_delays_no_other_and_shutdown_stays_bounded(tmp_path: Path) -> None:
    """While one webhook hangs, another gets its notification; a stop returns within the grace, the slow row pending."""
    gate = threading.Event()
    slow, fast = WebhookReceiver(hold=gate), WebhookReceiver()
    try:
        cfg = _config(
            tmp_path,
            {
                "a_slow": {"type": "webhook", "url": slow.url, "timeout": 60},
                "b_fast": {"type": "webhook", "url": fast.url},
            },
        )
        (tmp_path / "app.log").write_bytes(_error_line())
        monitor = Monitor(cfg, clock=FakeClock(T0))
        stop = threading.Event()
        runner = threading.Thread(target=monitor.run, kwargs={"stop": stop})
        runner.start()
        assert slow.entered.wait(10), "the slow receiver was never called"
        assert fast.arrived.wait(10), "the fast channel waited for the slow one"
        stop.set()
        runner.join(SHUTDOWN_GRACE + 5)
        assert not runner.is_alive(), "shutdown waited for the slow channel"
        rows = {r["channel"]: r["status"] for r in monitor.store.outbox()}
        assert rows == {"b_fast": "sent", "a_slow": "pending"}
    finally:
        gate.set()
        monitor.close()
        slow.close()
        fast.close()


def _sender(tmp_path: Path, results: list[DeliveryResult], alert_state: str = "firing") -> tuple[Sender, Store, Any]:
    cfg = c.parse_config(
        {"sources": ["x"], "channels": {"hook": {"type": "webhook", "url": "http://h", "max_attempts": 3}}}
    )
    store, clock = Store(tmp_path / "s.db"), FakeClock(T0)
    alert = {"fingerprint": "f1", "rule": "r", "state": alert_state}
    payload = {
        "status": "firing",
        "notification_reason": "firing",
        "alerts": [{"status": "firing", "fingerprint": "f1"}],
    }
    store.commit({}, alerts=[alert], outbox=[("hook", payload, clock())])
    return Sender(store, {"hook": RecordingNotifier(results)}, cfg, clock), store, clock


def test_a_firing_alert_is_retried_past_max_attempts_until_the_receiver_recovers(tmp_path: Path) -> None:
    """Beyond max_attempts, a still-firing alert's notification keeps retrying every MAX_BACKOFF; then it is sent."""
    down = DeliveryResult(False, True, None, "HTTP 503")
    sender, store, clock = _sender(tmp_path, [down] * 10)
    for _ in range(10):
        assert sender.deliver_due() == 0
        clock.advance(MAX_BACKOFF)
    [row] = store.outbox()
    assert (row["status"], row["attempts"]) == ("pending", 10)
    assert row["next_attempt_at"] - clock() <= MAX_BACKOFF
    assert sender.deliver_due() == 1
    assert store.outbox()[0]["status"] == "sent"
    store.close()


def test_a_stale_notification_dies_after_max_attempts_and_retry_requeues_it(tmp_path: Path) -> None:
    """Once its alert resolved, a firing notice stops after max_attempts; `log-monitor retry` sends it again."""
    down = DeliveryResult(False, True, None, "HTTP 503")
    sender, store, clock = _sender(tmp_path, [down] * 3, alert_state="resolved")
    for _ in range(3):
        sender.deliver_due()
        clock.advance(MAX_BACKOFF)
    assert store.outbox()[0]["status"] == "dead"
    assert commands.retry(store, None, by="ops", clock=clock) == [store.outbox()[0]["id"]]
    assert sender.deliver_due() == 1
    assert [h["kind"] for h in store.history(10)][-2:] == ["requeue", "delivery"]
    store.close()


def test_a_permanent_failure_is_not_retried(tmp_path: Path) -> None:
    """A notifier that raises (the same input fails again) marks the row dead after one attempt."""

    class Broken:
        def send(self, notification: dict[str, Any]) -> DeliveryResult:
            raise ValueError("cannot render")

    sender, store, _ = _sender(tmp_path, [])
    sender.notifiers = {"hook": Broken()}
    sender.deliver_due()
    assert [(r["status"], r["attempts"]) for r in store.outbox()] == [("dead", 1)]
    store.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's Controller cannot report a port-0 binding back
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


def _email(port: int, to: str = "ops@example.org") -> c.EmailChannel:
    return c.EmailChannel.model_validate(
        {"type": "email", "host": "127.0.0.1", "port": port, "starttls": False, "from": "m@example.org", "to": [to]}
    )


def test_cr_lf_in_a_label_cannot_inject_a_mail_header(smtp: tuple[_Inbox, int]) -> None:
    """A service label `md\\r\\nBcc: x@y` is delivered with a one-line Subject and no Bcc header."""
    inbox, port = smtp
    payload = {
        "status": "firing",
        "notification_reason": "firing",
        "idempotency_key": "k\r\nX-Evil: 1",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "a", "service": "md\r\nBcc: x@y.org"},
                "annotations": {"summary": "s"},
            }
        ],
    }
    result = EmailNotifier(_email(port)).send(payload)
    assert result.ok, result.detail
    mail = message_from_bytes(inbox.messages[0])
    assert mail["Bcc"] is None and mail["X-Evil"] is None
    assert mail["Subject"] == "[firing] firing: a md Bcc: u_" + mail["Subject"].split("u_", 1)[1]


def test_a_refused_recipient_is_permanent(smtp: tuple[_Inbox, int]) -> None:
    """A 550 for the recipient is not retried."""
    _, port = smtp
    payload = {"status": "firing", "notification_reason": "firing", "idempotency_key": "k", "alerts": []}
    result = EmailNotifier(_email(port, "nobody@example.org")).send(payload)
    assert (result.ok, result.retryable) == (False, False)


def test_alertmanager_channel_posts_schema_valid_alerts_that_fire_and_resolve(tmp_path: Path) -> None:
    """POST /api/v2/alerts bodies validate against Alertmanager's OpenAPI `postableAlerts`; resolved carries endsAt."""
    schema = yaml.safe_load((DATA / "alertmanager_postable_alerts.yaml").read_text())
    with WebhookReceiver(path="/api/v2/alerts") as am:
        root = am.url.removesuffix("/api/v2/alerts")
        cfg = _config(tmp_path, {"am": {"type": "alertmanager", "url": root}}, by=["service", "context.n"])
        clock = FakeClock(T0)
        (tmp_path / "app.log").write_bytes(_error_line(7))
        m = Monitor(cfg, clock=clock)
        m.step()
        assert m.deliver() == 1
        clock.advance(120)
        m.step()
        assert m.deliver() == 1
        m.close()
        bodies = [orjson.loads(b) for b in am.bodies]
        sent = {(path, h.get("Content-Type")) for path, (h, _) in zip(am.paths, am.received, strict=True)}
    assert sent == {("/api/v2/alerts", "application/json")}
    for body in bodies:
        jsonschema.validate(body, schema)
    firing, resolved = (b[0] for b in bodies)
    assert firing["labels"] == resolved["labels"]
    assert firing["labels"]["context_n"] == "7" and firing["labels"]["alertname"] == "err"
    starts, ends = (datetime.fromisoformat(firing["startsAt"]), datetime.fromisoformat(resolved["endsAt"]))
    assert (ends - starts).total_seconds() == 120
    assert datetime.fromisoformat(firing["endsAt"]) > ends  # firing: held until `hold`, unless repeated
