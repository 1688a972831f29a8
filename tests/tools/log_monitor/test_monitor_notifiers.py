"""Notifiers against real servers on 127.0.0.1: webhook (429 Retry-After), SMTP with STARTTLS, Telegram."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tools.log_monitor import config as c
from tools.log_monitor.clock import FakeClock
from tools.log_monitor.notifiers import EmailNotifier, TelegramNotifier, WebhookNotifier
from tools.log_monitor.sender import Sender
from tools.log_monitor.store import Store

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
def receiver() -> Iterator[Receiver]:
    r = Receiver([(429, {"Retry-After": "7"}), (200, {})])
    yield r
    r.close()


def test_webhook_retries_after_429_honouring_retry_after(tmp_path: Path, receiver: Receiver) -> None:
    """A 429 is retried no sooner than Retry-After, with the same idempotency key; then marked sent."""
    cfg = c.parse_config({"sources": ["x"], "channels": {"hook": {"type": "webhook", "url": receiver.url + "/a"}}})
    store, clock = Store(tmp_path / "s.db"), FakeClock()
    store.commit({}, outbox=[("hook", dict(PAYLOAD, idempotency_key="idem-1"), clock())])
    notifier = WebhookNotifier(cfg.channels["hook"])  # type: ignore[arg-type]
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


def test_rate_limit_folds_overflow_into_one_digest(tmp_path: Path, receiver: Receiver) -> None:
    """Beyond the channel's rate limit, notifications are folded into a digest, not dropped."""
    receiver.script = []
    cfg = c.parse_config(
        {
            "sources": ["x"],
            "channels": {"hook": {"type": "webhook", "url": receiver.url, "rate_limit": {"count": 3, "per": "1m"}}},
        }
    )
    store, clock = Store(tmp_path / "s.db"), FakeClock()
    store.commit({}, outbox=[("hook", dict(PAYLOAD, idempotency_key=f"k{i}"), clock()) for i in range(10)])
    sender = Sender(store, {"hook": WebhookNotifier(cfg.channels["hook"])}, cfg, clock)  # type: ignore[arg-type]
    assert sender.deliver_due() == 3
    reasons = [r[2]["notification_reason"] for r in receiver.requests]
    assert reasons == ["firing", "firing", "digest"]
    assert len(receiver.requests[-1][2]["digest_of"]) == 8


def test_telegram_sends_redacted_text_to_admin_chat(receiver: Receiver) -> None:
    """The Bot API sendMessage call goes to the admin chat, with secrets masked."""
    receiver.script = []
    cfg = c.TelegramChannel(type="telegram", base_url=receiver.url, chat_id=42)
    result = TelegramNotifier(cfg, "123:tok").send(PAYLOAD)
    assert result.ok
    path, _, body = receiver.requests[0]
    assert path == "/bot123:tok/sendMessage"
    assert body["chat_id"] == 42
    assert "abc123" not in body["text"] and "token=***" in body["text"]


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
