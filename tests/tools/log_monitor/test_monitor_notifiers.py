"""Notifiers against real servers on 127.0.0.1: webhook (429 Retry-After), SMTP STARTTLS, the Telegram simulator."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.notifiers import EmailNotifier, TelegramNotifier, WebhookNotifier
from crypto_observability.log_monitor.sender import Sender
from crypto_observability.log_monitor.store import Store
from services.telegram_simulator import SimulatedUser, TelegramSimulator

PAYLOAD = {
    "version": "1",
    "status": "firing",
    "notification_reason": "firing",
    "groupKey": "alertname=x",
    "idempotency_key": "k1",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "x", "service": "s"},
            "annotations": {"summary": "token=abc123 leaked"},
            "id": 1,
            "startsAt": None,
            "endsAt": None,
            "fingerprint": "f",
        }
    ],
}


class Receiver:
    """A tiny HTTP server that answers from a script of (status, headers) and records requests."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script, self.requests = list(script), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                code, headers = outer.script.pop(0) if outer.script else (200, {})
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def own() -> Iterator[Callable[[Any], Any]]:
    """Close every notifier and store the test hands to it, so no connection outlives the test."""
    held: list[Any] = []

    def keep(thing: Any) -> Any:
        held.append(thing)
        return thing

    yield keep
    for thing in held:
        thing.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([(429, {"Retry-After": "7"}), (200, {})])
    yield r
    r.close()


def test_webhook_retries_after_429_honouring_retry_after(tmp_path: Path, receiver: Receiver, own: Any) -> None:
    """A 429 is retried no sooner than Retry-After, with the same idempotency key; then marked sent."""
    cfg = c.parse_config({"sources": ["x"], "channels": {"hook": {"type": "webhook", "url": receiver.url + "/a"}}})
    store, clock = own(Store(tmp_path / "s.db")), FakeClock()
    store.commit({}, outbox=[("hook", dict(PAYLOAD, idempotency_key="idem-1"), clock())])
    notifier = own(WebhookNotifier(cfg.channels["hook"]))  # type: ignore[arg-type]
    sender = Sender(store, {"hook": notifier}, cfg, clock)
    assert sender.deliver_due() == 0
    clock.advance(6)
    assert sender.deliver_due() == 0, "retried before Retry-After"
    clock.advance(1)
    assert sender.deliver_due() == 1
    assert [r[1]["Idempotency-Key"] for r in receiver.requests] == ["idem-1", "idem-1"]
    body = receiver.requests[-1][2]
    assert {"status", "notification_reason", "alerts", "idempotency_key"} <= body.keys()
    assert store.outbox("sent")[0]["attempts"] == 2


def test_rate_limit_folds_overflow_into_one_digest(tmp_path: Path, receiver: Receiver, own: Any) -> None:
    """Beyond the channel's rate limit, notifications are folded into a digest, not dropped."""
    receiver.script = []
    cfg = c.parse_config(
        {
            "sources": ["x"],
            "channels": {"hook": {"type": "webhook", "url": receiver.url, "rate_limit": {"count": 3, "per": "1m"}}},
        }
    )
    store, clock = own(Store(tmp_path / "s.db")), FakeClock()
    store.commit({}, outbox=[("hook", dict(PAYLOAD, idempotency_key=f"k{i}"), clock()) for i in range(10)])
    sender = Sender(store, {"hook": own(WebhookNotifier(cfg.channels["hook"]))}, cfg, clock)  # type: ignore[arg-type]
    assert sender.deliver_due() == 3
    reasons = [r[2]["notification_reason"] for r in receiver.requests]
    assert reasons == ["firing", "firing", "digest"]
    assert len(receiver.requests[-1][2]["digest_of"]) == 8


ADMIN = SimulatedUser(100001, "Ops", "ops")


@pytest.mark.parametrize("root", ["base_url", "server_url"])
async def test_telegram_sends_redacted_text_to_admin_chat(root: str, own: Any) -> None:
    """sendMessage reaches the admin chat of the real Telegram simulator, secrets masked, either URL form."""
    async with TelegramSimulator() as sim:
        sim.add_user(ADMIN)
        cfg = c.TelegramChannel(type="telegram", base_url=getattr(sim, root), chat_id=ADMIN.id)
        result = await asyncio.to_thread(own(TelegramNotifier(cfg, sim.token)).send, PAYLOAD)
        assert result.ok, result.detail
        [message] = sim.messages_for(ADMIN.id)
    assert message["text"].startswith("[FIRING] firing alertname=x")
    assert "abc123" not in message["text"] and "token=***" in message["text"]


async def test_telegram_429_is_retried_after_retry_after(tmp_path: Path, own: Any) -> None:
    """The simulator's 429 with parameters.retry_after delays the retry; then the message arrives once."""
    async with TelegramSimulator() as sim:
        sim.add_user(ADMIN)
        sim.inject_429(retry_after=9, count=1, methods=["sendMessage"])
        cfg = c.parse_config(
            {"sources": ["x"], "channels": {"tg": {"type": "telegram", "base_url": sim.base_url, "chat_id": ADMIN.id}}}
        )
        store, clock = own(Store(tmp_path / "s.db")), FakeClock()
        store.commit({}, outbox=[("tg", dict(PAYLOAD, idempotency_key="t1"), clock())])
        sender = Sender(store, {"tg": own(TelegramNotifier(cfg.channels["tg"], sim.token))}, cfg, clock)  # type: ignore[arg-type]
        assert await asyncio.to_thread(sender.deliver_due) == 0
        clock.advance(8)
        assert await asyncio.to_thread(sender.deliver_due) == 0, "retried before retry_after"
        clock.advance(1)
        assert await asyncio.to_thread(sender.deliver_due) == 1
        assert len(sim.messages_for(ADMIN.id)) == 1


async def test_telegram_unknown_chat_is_dead_not_retried(own: Any) -> None:
    """A chat the bot cannot reach (400 chat not found) is a permanent failure, not a retry loop."""
    async with TelegramSimulator() as sim:
        cfg = c.TelegramChannel(type="telegram", base_url=sim.base_url, chat_id=999)
        result = await asyncio.to_thread(own(TelegramNotifier(cfg, sim.token)).send, PAYLOAD)
    assert (result.ok, result.retryable, result.detail) == (False, False, "HTTP 400")


def _cert(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cpath, kpath = tmp_path / "cert.pem", tmp_path / "key.pem"
    cpath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kpath.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cpath, kpath


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, envelope.content, session.ssl is not None))
        return "250 OK"


def test_email_uses_starttls_against_real_smtp_server(tmp_path: Path) -> None:
    """Mail goes through a real SMTP server after STARTTLS, verified against the test's own CA."""
    import ssl

    cpath, kpath = _cert(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cpath, kpath)
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's Controller cannot report a port-0 binding back
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True)
    ctl.start()
    try:
        cfg = c.EmailChannel.model_validate(
            {
                "type": "email",
                "host": "127.0.0.1",
                "port": port,
                "from": "monitor@example.org",
                "to": ["ops@example.org"],
                "cafile": str(cpath),
            }
        )
        result = EmailNotifier(cfg).send(PAYLOAD)
    finally:
        ctl.stop()
    assert result.ok, result.detail
    sender, content, encrypted = inbox.messages[0]
    assert encrypted and sender == "monitor@example.org"
    assert b"abc123" not in content and b"[FIRING]" in content
