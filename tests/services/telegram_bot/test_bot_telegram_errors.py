"""When Telegram itself misbehaves: a 429 is waited out and logged, a failed reply is logged once, classified."""

from __future__ import annotations

from typing import Any

from crypto_observability.shared.testing import CapturedLogs, validate_record
from services.telegram_simulator import SimulatedUser, TelegramSimulator


async def test_telegram_429_is_waited_out_and_logged(
    sim: TelegramSimulator, running_bot: Any, logs: CapturedLogs, alice: SimulatedUser
) -> None:
    """A 429 on sendMessage delays the reply instead of losing it, and logs telegram_rate_limited for the method."""
    sim.inject_429(retry_after=1, count=1, methods=["sendMessage"])
    async with running_bot():
        sim.send_command(alice, "/help")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"].startswith("Commands:")
    [limited] = [r for r in logs.records if r.get("event") == "telegram_rate_limited"]
    assert (limited["context"]["method"], limited["context"]["retry_after"]) == ("sendMessage", 1.0)
    assert [r for r in logs.records if r["level"] == "ERROR"] == []


async def test_failed_reply_is_one_classified_error_and_an_apology(
    sim: TelegramSimulator, running_bot: Any, logs: CapturedLogs, alice: SimulatedUser
) -> None:
    """A 502 from Telegram fails /help: one ERROR record (network), bot_command failed, and the user hears why."""
    sim.inject_5xx(502, count=1, methods=["sendMessage"])
    async with running_bot():
        sim.send_command(alice, "/help")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"] == "Sorry, Telegram is busy right now. Please try again in a moment."
    errors = [r for r in logs.records if r["level"] == "ERROR"]
    assert [(e["error"]["category"], e["context"]["command"]) for e in errors] == [("network", "help")]
    assert errors[0]["exception"]["type"] == "NetworkError"
    [command] = [r for r in logs.records if r.get("event") == "bot_command"]
    assert (command["context"]["success"], command["context"]["error_type"]) == (False, "network")
    assert command["request_id"] == errors[0]["request_id"]
    for record in logs.records:
        validate_record(record)
