"""BotLogger events, through a real python-telegram-bot Application talking to the Telegram simulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from crypto_observability.shared.testing import capture_logs, validate_record
from services.telegram_bot.bot_logger import BotLogger, RateLimiter, normalise_command
from services.telegram_simulator import SimulatedUser, TelegramSimulator

os.environ["PTB_TIMEDELTA"] = "1"  # RetryAfter.retry_after as a timedelta, without PTB's deprecation warning
ALICE = SimulatedUser(id=918273645, first_name="Alice", username="alice_member")
MALLORY = SimulatedUser(id=564738291, first_name="Mallory", username="mallory_stranger", role="stranger")


def _no_raw_ids(logs: Any) -> None:
    """No BotLogger line carries a raw user id or username (third-party DEBUG lines are redaction's job)."""
    text = b"\n".join(line for line in logs.lines if b'"module":"bot_logger"' in line)
    assert text
    for user in (ALICE, MALLORY):
        assert str(user.id).encode() not in text
        assert user.username is not None and user.username.encode() not in text


@pytest.fixture
def logs() -> Any:
    """Capture every record of the test at DEBUG."""
    with capture_logs("DEBUG") as captured:
        yield captured


@pytest.fixture
async def tg() -> AsyncIterator[TelegramSimulator]:
    """The Telegram Bot API simulator on a free loopback port."""
    async with TelegramSimulator() as simulator:
        simulator.add_user(ALICE)
        simulator.add_user(MALLORY)
        yield simulator


def _app(tg: TelegramSimulator, blog: BotLogger, limiter: RateLimiter) -> Application:  # type: ignore[type-arg]
    async def price(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.effective_message is not None
        user_id = update.effective_user.id
        blog.start_update(update.update_id, user_id)
        allowed = user_id == ALICE.id
        blog.user_authorization("/price", allowed, user_id)
        if not allowed or not limiter.check(user_id):
            return
        with blog.command("/price", context.args or (), user_id):
            try:
                await update.effective_message.reply_text(f"{(context.args or ['?'])[0]}: 95000 USDT")
            except RetryAfter as exc:
                blog.telegram_rate_limited("sendMessage", exc.retry_after)

    app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).updater(None).build()
    app.add_handler(CommandHandler("price", price))
    return app


async def test_real_bot_flow_logs_commands_authorization_and_telegram_429(tg, logs):
    """A member's /price is logged received and executed; a stranger is denied; Telegram's 429 is logged."""
    blog = BotLogger()
    limiter = RateLimiter(max_commands=5, window_s=60, logger=blog)
    async with _app(tg, blog, limiter) as app:
        for user, text in [(ALICE, "/price btc"), (MALLORY, "/price eth"), (ALICE, "/price sol")]:
            if text == "/price sol":
                tg.inject_429(retry_after=9, count=1, methods=["sendMessage"])
            await app.process_update(Update.de_json(tg.send_command(user, text), app.bot))
    assert [m["text"] for m in tg.messages_for(ALICE.id)] == ["btc: 95000 USDT"]
    received = logs.find(event="bot_command_received")
    assert [r["context"] for r in received] == [{"update_id": 1, "command": "price", "args_count": 1},
                                                {"update_id": 3, "command": "price", "args_count": 1}]
    executed = logs.find(event="bot_command")
    assert [(r["context"]["command"], r["context"]["success"]) for r in executed] == [("price", True)] * 2
    assert all(r["context"]["response_time_ms"] > 0 for r in executed)
    denied = logs.find(event="user_authorization", authorized=False)
    assert denied[0]["context"] == {"update_id": 2, "command": "price", "authorized": False}
    [security] = logs.find(event="security_event")
    assert security["context"] == {"update_id": 2, "kind": "unauthorized_command", "severity": "medium",
                                   "command": "price"}
    assert security["user"] == denied[0]["user"] != received[0]["user"]
    assert all(r["user"].startswith("u_") for r in received + denied)
    [limited] = logs.find(event="telegram_rate_limited")
    assert limited["context"] == {"update_id": 3, "method": "sendMessage", "retry_after": 9.0}
    _no_raw_ids(logs)
    for record in logs.records:
        validate_record(record)


async def test_command_timer_logs_failures(logs):
    """An exception inside command() is logged classified at ERROR and re-raised; fail() marks a refusal."""
    blog = BotLogger()
    with pytest.raises(TimeoutError), blog.command("/analysis@CryptoBot", ["btc", "1h"], ALICE.id):
        raise TimeoutError("market-data too slow")
    with blog.command("price", [], ALICE.id) as timer:
        timer.fail("bad_symbol")
    crashed, refused = logs.find(event="bot_command")
    assert crashed["context"]["command"] == "analysis" and crashed["level"] == "ERROR"
    assert (crashed["context"]["error_type"], crashed["error"]["type"]) == ("timeout", "TimeoutError")
    assert (refused["context"]["success"], refused["context"]["error_type"], refused["level"]) == (
        False, "bad_symbol", "WARNING")
    assert logs.find(event="bot_command_received")[0]["context"]["args_count"] == 2
    _no_raw_ids(logs)


def test_market_data_formatting_and_webhook_events(logs):
    """Request/response carry the request id; webhook rejection is also a security_event."""
    blog = BotLogger()
    blog.market_data_request("/price/{symbol}", "BTC-USDT", "0f" * 16)
    blog.market_data_response("/price/{symbol}", 200, 35.5, "0f" * 16)
    blog.market_data_response("/oi/{symbol}", 503, 1200.0, "1e" * 16)
    blog.message_formatted("price", 0.4, 212)
    blog.webhook_received(77)
    blog.webhook_rejected()
    blog.webhook_processed(77, 12.0)
    request, = logs.find(event="market_data_request")
    assert request["context"] == {"endpoint": "/price/{symbol}", "symbol": "BTC-USDT", "request_id": "0f" * 16}
    ok, bad = logs.find(event="market_data_response")
    assert (ok["context"]["success"], ok["level"], bad["context"]["success"], bad["level"]) == (
        True, "INFO", False, "WARNING")
    assert logs.find(event="message_formatted")[0]["context"]["length"] == 212
    assert logs.find(event="webhook_rejected")[0]["context"] == {"reason": "bad_secret_token"}
    assert logs.find(event="security_event")[0]["context"]["kind"] == "webhook_rejected"
    assert logs.find(event="webhook_processed")[0]["context"] == {"update_id": 77, "response_time_ms": 12.0,
                                                                   "success": True}
    for record in logs.records:
        validate_record(record)


@pytest.mark.parametrize(("raw", "name"), [("/price", "price"), ("/Price@CryptoBot", "price"), ("oi", "oi"),
                                           ("/", "unknown")])
def test_command_names_are_normalised(raw, name):
    """Slash, bot-name suffix and case never split one command into several."""
    assert normalise_command(raw) == name
