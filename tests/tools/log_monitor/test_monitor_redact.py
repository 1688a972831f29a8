"""Alert text is redacted by the shared Redactor: no secret from a log line reaches any notifier."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import orjson

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import ConsoleNotifier, TelegramNotifier, WebhookNotifier
from crypto_observability.log_monitor.testing import WebhookReceiver
from services.telegram_simulator import SimulatedUser, TelegramSimulator

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
SECRETS = (BOT_TOKEN, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", API_KEY)
ADMIN = SimulatedUser(100001, "Ops", "ops")


def test_redact_masks_bot_tokens_and_key_values() -> None:
    """The shared Redactor masks a bot token in a URL and an api_key=... value."""
    text = redact(f"POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage failed api_key={API_KEY}")
    assert not any(s in text for s in SECRETS)
    assert "api_key=***" in text and "/bot***/sendMessage" in text


def _leaky_line() -> bytes:
    rec = {
        "timestamp": "2025-01-15T10:30:00.000Z",
        "service": "telegram-bot",
        "module": "bot",
        "level": "ERROR",
        "message": f"sendMessage failed: https://api.telegram.org/bot{BOT_TOKEN}/sendMessage api_key={API_KEY}",
        "context": {"request": f"GET /v5/market?api_key={API_KEY}"},
    }
    return orjson.dumps(rec) + b"\n"


async def test_no_secret_reaches_any_notifier_payload(tmp_path: Path) -> None:
    """A line with a bot token and api_key=... yields alerts whose webhook, Telegram and console text hide both."""
    hook, console = WebhookReceiver("/"), io.StringIO()
    (tmp_path / "bot.log").write_bytes(_leaky_line())
    async with TelegramSimulator() as sim:
        sim.add_user(ADMIN)
        cfg = c.parse_config(
            {
                "state_db": str(tmp_path / "s.db"),
                "sources": [str(tmp_path / "bot.log")],
                "start_at": "beginning",
                "defaults": {"channels": ["hook", "tg", "console"]},
                "rules": [
                    {"name": "errors", "type": "match", "where": {"level": "ERROR"}},
                    {"name": "by_request", "type": "match", "where": {"level": "ERROR"}, "by": ["context.request"]},
                ],
                "channels": {
                    "hook": {"type": "webhook", "url": hook.url},
                    "tg": {"type": "telegram", "base_url": sim.base_url, "chat_id": ADMIN.id},
                    "console": {"type": "console"},
                },
            }
        )
        notifiers = {
            "hook": WebhookNotifier(cfg.channels["hook"]),  # type: ignore[arg-type]
            "tg": TelegramNotifier(cfg.channels["tg"], sim.token),  # type: ignore[arg-type]
            "console": ConsoleNotifier(console),
        }
        m = Monitor(cfg, clock=FakeClock(), notifiers=notifiers)
        await asyncio.to_thread(m.step)
        delivered = await asyncio.to_thread(m.deliver)
        telegram = [msg["text"] for msg in sim.messages_for(ADMIN.id)]
        outbox = [r["payload"] for r in m.store.outbox()]
        history = m.store.history(500)
        m.close()
    hook.close()
    assert delivered == 6 and len(hook.bodies) == 2 and len(telegram) == 2
    samples = [a["annotations"]["sample"] for body in hook.bodies for a in json.loads(body)["alerts"]]
    assert all("/bot***/sendMessage api_key=***" in s for s in samples)
    everything = [b.decode() for b in hook.bodies] + telegram + [console.getvalue(), orjson.dumps(outbox).decode()]
    everything.append(orjson.dumps(history).decode())
    leaks = [s for s in SECRETS for text in everything if s in text]
    assert leaks == []
