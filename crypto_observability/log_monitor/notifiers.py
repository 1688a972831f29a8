"""Notification channels behind a one-method Protocol: webhook, Alertmanager, email (STARTTLS), Telegram, console.

A notification is the outbox payload dict (see docs/log_monitor.md); each channel renders it.
Each `send` makes one attempt and says whether a retry makes sense; the sender owns retries.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, TextIO

import httpx

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.errors import NotifyError

Notification = dict[str, Any]


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one delivery attempt."""

    ok: bool
    retryable: bool = False
    retry_after: float | None = None
    detail: str = ""


class Notifier(Protocol):
    """Deliver one notification, once. A notifier holding connections may also have `close()`."""

    def send(self, notification: Notification) -> DeliveryResult: ...


def render_text(n: Notification) -> str:
    """A short human message: one line per alert, reason first."""
    head = f"[{n['notification_reason'].upper()}] {n['status']} {n.get('groupKey', '')}".rstrip()
    lines = [head]
    for a in n.get("alerts", [])[:20]:
        lab = a["labels"]
        where = ", ".join(f"{k}={v}" for k, v in lab.items() if k not in ("alertname", "rule_type", "severity"))
        flap = " (flapping)" if a.get("flapping") else ""
        lines.append(
            f"- {a['status']}{flap} #{a.get('id')} {lab.get('alertname')} [{lab.get('severity')}]"
            f" {where}: {a['annotations'].get('summary', '')}"
        )
    if len(n.get("alerts", [])) > 20:
        lines.append(f"... and {len(n['alerts']) - 20} more")
    return redact("\n".join(lines))


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _http_result(resp: httpx.Response) -> DeliveryResult:
    if resp.status_code < 300:
        return DeliveryResult(True, detail=str(resp.status_code))
    retryable = resp.status_code == 429 or resp.status_code >= 500
    return DeliveryResult(False, retryable, _retry_after(resp), f"HTTP {resp.status_code}")


class WebhookNotifier:
    """POST the notification as JSON; the Idempotency-Key header repeats the payload's key."""

    def __init__(self, cfg: c.WebhookChannel, client: httpx.Client | None = None) -> None:
        self.cfg, self.client = cfg, client or httpx.Client(timeout=cfg.timeout)

    def send(self, notification: Notification) -> DeliveryResult:
        headers = {**self.cfg.headers, "Idempotency-Key": notification["idempotency_key"]}
        try:
            resp = self.client.post(self.cfg.url, json=notification, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}")
        return _http_result(resp)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


_AM_LABEL = re.compile(r"[^A-Za-z0-9_]")


def _am_time(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alertmanager_alerts(
    notification: Notification, generator_url: str = "", hold: float = 86400.0
) -> list[dict[str, Any]]:
    """The body of Alertmanager's POST /api/v2/alerts for one notification (its `postableAlerts`).

    Label names are made legal for Alertmanager (`context.exchange` -> `context_exchange`). A firing
    alert ends `hold` seconds after the notification unless repeated; a resolved one carries its end.
    """
    created = notification.get("created_at")
    sent = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.now(UTC)
    out = []
    for a in notification.get("alerts", []):
        item: dict[str, Any] = {
            "labels": {_AM_LABEL.sub("_", k) or "_": str(v) for k, v in a["labels"].items()},
            "annotations": {_AM_LABEL.sub("_", k) or "_": str(v) for k, v in a["annotations"].items()},
        }
        if a.get("startsAt"):
            item["startsAt"] = a["startsAt"]
        if a["status"] == "resolved":
            item["endsAt"] = a.get("endsAt") or _am_time(sent)
        else:
            item["endsAt"] = _am_time(sent + timedelta(seconds=hold))
        if generator_url:
            item["generatorURL"] = generator_url
        out.append(item)
    return out


class AlertmanagerNotifier:
    """POST the alerts to Alertmanager's v2 API, so its routing, silences and receivers take over."""

    def __init__(self, cfg: c.AlertmanagerChannel, client: httpx.Client | None = None) -> None:
        self.cfg, self.client = cfg, client or httpx.Client(timeout=cfg.timeout)

    def send(self, notification: Notification) -> DeliveryResult:
        url = self.cfg.url.rstrip("/") + "/api/v2/alerts"
        try:
            resp = self.client.post(
                url,
                json=alertmanager_alerts(notification, self.cfg.generator_url, self.cfg.hold),
                headers=self.cfg.headers,
            )
        except httpx.HTTPError as exc:
            return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}")
        return _http_result(resp)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class TelegramNotifier:
    """Send the text to an admin chat through the Bot API's sendMessage.

    `base_url` is the API root (https://api.telegram.org) or, as python-telegram-bot spells it, that root
    plus "/bot" (the simulator's `base_url`); either way the request goes to `<root>/bot<token>/sendMessage`.
    """

    def __init__(self, cfg: c.TelegramChannel, token: str, client: httpx.Client | None = None) -> None:
        self.cfg, self.token = cfg, token
        self.client = client or httpx.Client(timeout=cfg.timeout)

    def send(self, notification: Notification) -> DeliveryResult:
        base = self.cfg.base_url.rstrip("/")
        url = f"{base if base.endswith('/bot') else base + '/bot'}{self.token}/sendMessage"
        try:
            resp = self.client.post(url, json={"chat_id": self.cfg.chat_id, "text": render_text(notification)[:4000]})
        except httpx.HTTPError as exc:
            return DeliveryResult(False, True, None, redact(f"{type(exc).__name__}: {exc}").replace(self.token, "***"))
        result = _http_result(resp)
        if resp.status_code == 429:
            try:
                after = float(resp.json().get("parameters", {}).get("retry_after"))
                return DeliveryResult(False, True, after, result.detail)
            except (ValueError, TypeError, AttributeError):
                pass
        return result

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class EmailNotifier:
    """Send a plain-text mail over SMTP, upgrading with STARTTLS when configured."""

    def __init__(self, cfg: c.EmailChannel, password: str | None = None) -> None:
        self.cfg, self.password = cfg, password

    def _message(self, notification: Notification) -> EmailMessage:
        cfg = self.cfg
        msg = EmailMessage()
        first = (notification.get("alerts") or [{}])[0].get("labels", {})
        msg["Subject"] = header_text(
            redact(
                f"[{notification['notification_reason']}] {notification['status']}: "
                f"{first.get('alertname', 'alert')} {first.get('service', '')}".strip()
            )
        )
        msg["From"], msg["To"] = cfg.sender, ", ".join(cfg.to)
        msg["Message-ID"] = f"<{header_text(notification['idempotency_key'])}@log-monitor>"
        msg.set_content(render_text(notification))
        return msg

    def send(self, notification: Notification) -> DeliveryResult:
        cfg = self.cfg
        try:
            msg = self._message(notification)
        except (ValueError, TypeError, LookupError, AttributeError) as exc:  # the same input fails again: not retried
            return DeliveryResult(False, False, None, f"cannot build the mail: {type(exc).__name__}: {exc}")
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=cfg.cafile))
                if cfg.username:
                    smtp.login(cfg.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            return DeliveryResult(False, exc.smtp_code >= 400 and exc.smtp_code < 500, None, f"SMTP {exc.smtp_code}")
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError) as exc:
            return DeliveryResult(False, False, None, f"{type(exc).__name__}: {exc}")
        except (OSError, smtplib.SMTPException) as exc:
            return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}")
        return DeliveryResult(True, detail="250")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def header_text(text: str, limit: int = 200) -> str:
    """A value safe in a mail header: control characters (CR, LF ...) become one space, and it is bounded."""
    return _CONTROL.sub(" ", text)[:limit]


class ConsoleNotifier:
    """Print the text to a stream (stderr by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, notification: Notification) -> DeliveryResult:
        from rich.console import Console

        Console(file=self.stream or sys.stderr, highlight=False, soft_wrap=True).print(
            render_text(notification), markup=False
        )
        return DeliveryResult(True)


class RecordingNotifier:
    """Keeps what it was sent; optionally fails first. A public test helper."""

    def __init__(self, results: list[DeliveryResult] | None = None) -> None:
        self.sent: list[Notification] = []
        self.results = list(results or [])

    def send(self, notification: Notification) -> DeliveryResult:
        result = self.results.pop(0) if self.results else DeliveryResult(True)
        if result.ok:
            self.sent.append(notification)
        return result


def build_notifiers(cfg: c.MonitorConfig, environ: Mapping[str, str]) -> dict[str, Notifier]:
    """Build one notifier per configured channel; secrets come from the environment."""
    out: dict[str, Notifier] = {}
    for name, ch in cfg.channels.items():
        if isinstance(ch, c.WebhookChannel):
            out[name] = WebhookNotifier(ch)
        elif isinstance(ch, c.EmailChannel):
            out[name] = EmailNotifier(ch, environ.get(ch.password_env) if ch.password_env else None)
        elif isinstance(ch, c.AlertmanagerChannel):
            out[name] = AlertmanagerNotifier(ch)
        elif isinstance(ch, c.TelegramChannel):
            token = environ.get(ch.token_env)
            if not token:
                raise NotifyError(f"channels.{name}: environment variable {ch.token_env} (the bot token) is not set")
            out[name] = TelegramNotifier(ch, token)
        else:
            out[name] = ConsoleNotifier()
    return out
