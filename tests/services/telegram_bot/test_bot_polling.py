"""The real bot, polling the Telegram simulator and asking a market-data stand-in over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from crypto_observability.shared.testing import CapturedLogs, validate_record
from services.telegram_simulator import SimulatedUser, TelegramSimulator

RunBot = Any


def texts(sim: TelegramSimulator, user_id: int) -> list[str]:
    """What the bot sent this user, oldest first."""
    return [m["text"] for m in sim.messages_for(user_id)]


def events(logs: CapturedLogs, name: str) -> list[dict[str, Any]]:
    """The records of one event."""
    return [r for r in logs.records if r.get("event") == name]


async def test_price_is_answered_to_the_sender_formatted(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """/price btc reaches Alice as the median and per-exchange prices with thousands separators, and a partial note."""
    async with running_bot():
        sim.send_command(alice, "/price btc")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"].splitlines() == [
        "💰 BTC-USDT price", "Median: $43,250.88", "• binance: $43,250.50 +1.20%", "• okx: $43,251.25 +1.25%",
        "Note: bybit did not answer (rate limited).",
    ]
    assert texts(sim, bob.id) == []
    [command] = events(logs, "bot_command")
    assert (command["context"]["command"], command["context"]["success"]) == ("price", True)


async def test_request_id_is_sent_to_market_data(
    sim: TelegramSimulator, market: Any, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser
) -> None:
    """Each update's request id goes to market-data as X-Request-ID and is on the bot's records of that update."""
    async with running_bot():
        sim.send_command(alice, "/price BTC")
        sim.send_command(alice, "/oi BTC/USDT")
        await sim.wait_for_reply(alice.id, count=2, timeout=10)
    sent = [r["request_id"] for r in market.received]
    assert len(sent) == 2 and len(set(sent)) == 2 and all(len(rid) == 32 for rid in sent)
    for rid, endpoint in zip(sent, ("price", "oi"), strict=True):
        [response] = [r for r in events(logs, "market_data_response") if r.get("request_id") == rid]
        assert response["context"]["endpoint"] == endpoint
        assert {r.get("event") for r in logs.records if r.get("request_id") == rid} >= {
            "bot_command_received", "market_data_request", "market_data_response", "bot_command"}


async def test_stranger_is_refused_with_a_security_event(
    sim: TelegramSimulator, market: Any, running_bot: RunBot, logs: CapturedLogs, mallory: SimulatedUser
) -> None:
    """A user not on the allow-list gets the polite refusal, market-data is never asked, a security_event is logged."""
    async with running_bot():
        sim.send_command(mallory, "/price btc")
        [reply] = await sim.wait_for_reply(mallory.id, timeout=10)
    assert reply["text"].startswith("Sorry, this bot is private")
    assert market.received == []
    [security] = events(logs, "security_event")
    assert security["context"]["kind"] == "unauthorized_command"
    assert security["user"].startswith("u_") and str(mallory.id) not in str(security)


async def test_flood_gets_one_friendly_slow_down(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """Past 5 commands in the window the user is told once to slow down, and the burst is one rate_limit_hit."""
    async with running_bot():
        for _ in range(8):
            sim.send_command(alice, "/help")
        await sim.wait_for_reply(alice.id, count=6, timeout=10)
        sim.send_command(bob, "/help")  # processed after Alice's flood: a marker that it is all handled
        await sim.wait_for_reply(bob.id, timeout=10)
    replies = texts(sim, alice.id)
    assert len(replies) == 6 and replies[-1].startswith("Whoa, slow down")
    hits = events(logs, "rate_limit_hit")
    assert [h["context"]["scope"] for h in hits] == ["user"]
    assert {h["user"] for h in hits} == {hits[0]["user"]}


async def test_unknown_symbol_is_answered_in_plain_words(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser
) -> None:
    """A symbol market-data does not know gets a plain sentence, and the command is logged as failed."""
    async with running_bot():
        sim.send_command(alice, "/price nopecoin")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"].startswith("I couldn't find NOPECOIN-USDT on any exchange")
    [command] = events(logs, "bot_command")
    assert command["context"]["success"] is False and command["context"]["error_type"] == "unknown_symbol"
    assert [r for r in logs.records if r["level"] == "ERROR"] == []


async def test_missing_symbol_gets_the_usage(
    sim: TelegramSimulator, running_bot: RunBot, alice: SimulatedUser
) -> None:
    """/oi without a symbol explains how to use it."""
    async with running_bot():
        sim.send_command(alice, "/oi")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"] == "Please tell me which coin: /oi SYMBOL, for example /oi BTC"


async def test_market_data_down_is_explained_and_logged_classified(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser, dead_url: str
) -> None:
    """Connection refused by market-data: the user reads a plain apology; one ERROR record is classified network."""
    async with running_bot(market_data_url=dead_url):
        sim.send_command(alice, "/volume eth")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"] == "Sorry, I can't reach the market data service right now. Please try again in a minute."
    [error] = [r for r in logs.records if r["level"] == "ERROR"]
    assert error["error"]["category"] == "network"
    assert error["error"]["type"] == "MarketDataUnavailable"
    assert error["context"]["command"] == "volume" and len(error["request_id"]) == 32


async def test_context_does_not_leak_between_updates(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs,
    alice: SimulatedUser, bob: SimulatedUser, mallory: SimulatedUser,
) -> None:
    """Two users' updates handled back to back carry their own request id and user, never the other's."""
    async with running_bot():
        sim.send_command(alice, "/price btc")
        sim.send_command(bob, "/start")
        sim.send_command(mallory, "/price btc")
        await sim.wait_for_reply(mallory.id, timeout=10)
    received = events(logs, "bot_command_received")
    security = events(logs, "security_event")
    by_request = {r["request_id"]: r["user"] for r in [*received, *security]}
    assert len(by_request) == 3 and len(set(by_request.values())) == 3
    for record in logs.records:
        if "request_id" in record:
            assert record.get("user") == by_request[record["request_id"]]


async def test_no_record_leaks_the_token_and_all_validate(
    sim: TelegramSimulator, running_bot: RunBot, logs: CapturedLogs, alice: SimulatedUser, mallory: SimulatedUser
) -> None:
    """Across start, commands, a refusal and shutdown, no line holds the bot token and every record is valid."""
    async with running_bot():
        sim.send_command(alice, "/price btc")
        sim.send_command(mallory, "/help")
        await sim.wait_for_reply(mallory.id, timeout=10)
    token_secret = sim.token.split(":", 1)[1]
    assert logs.lines and not [line for line in logs.lines if token_secret.encode() in line]
    for record in logs.records:
        validate_record(record)
    assert {r["service"] for r in logs.records} == {"telegram-bot"}


async def test_a_polling_bot_touches_its_heartbeat_file(sim: TelegramSimulator, running_bot: RunBot,
                                                        tmp_path: Path) -> None:
    """BOT_HEARTBEAT_FILE is touched while the bot polls: the container healthcheck reads its age for liveness."""
    beat = tmp_path / "telegram-bot.heartbeat"
    async with running_bot(heartbeat_file=str(beat)):
        for _ in range(100):
            if beat.exists():
                break
            await asyncio.sleep(0.05)
        assert beat.exists()
