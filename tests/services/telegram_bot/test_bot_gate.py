"""The update gate with a fake clock: limits lift when the window passes; refusals never flood back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from telegram import Update

from crypto_observability.shared.context import get_context
from crypto_observability.shared.testing import CapturedLogs
from services.telegram_bot.application import build_application
from services.telegram_bot.settings import BotSettings
from services.telegram_simulator import SimulatedUser, TelegramSimulator


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def bot(sim: TelegramSimulator, settings: BotSettings, logs: CapturedLogs) -> AsyncIterator[Any]:
    """The real Application on a fake clock, fed updates directly (no polling)."""
    clock = FakeClock()
    async with httpx.AsyncClient() as http:
        app = build_application(settings, http, clock=clock)
        async with app:
            app.bot_data["clock"] = clock
            yield app


async def feed(sim: TelegramSimulator, app: Any, user: SimulatedUser, text: str) -> None:
    """Have the user send text and let the bot handle that update now."""
    await app.process_update(Update.de_json(sim.send_command(user, text), app.bot))


async def test_limit_lifts_after_the_window(sim: TelegramSimulator, bot: Any, alice: SimulatedUser) -> None:
    """Five commands pass, the sixth is told to slow down, the seventh is dropped; 30 s later Alice is served again."""
    for _ in range(7):
        await feed(sim, bot, alice, "/help")
    texts = [m["text"] for m in sim.messages_for(alice.id)]
    assert len(texts) == 6 and texts[-1].startswith("Whoa, slow down") and "30 seconds" in texts[-1]
    bot.bot_data["clock"].now += 30.0
    await feed(sim, bot, alice, "/help")
    assert sim.messages_for(alice.id)[-1]["text"].startswith("Commands:")


async def test_stranger_is_refused_once_per_window(
    sim: TelegramSimulator, bot: Any, mallory: SimulatedUser, logs: CapturedLogs
) -> None:
    """A stranger's repeated commands get one refusal per window, but every attempt is a security_event."""
    for _ in range(3):
        await feed(sim, bot, mallory, "/price btc")
    bot.bot_data["clock"].now += 31.0
    await feed(sim, bot, mallory, "/oi btc")
    assert [m["text"][:27] for m in sim.messages_for(mallory.id)] == ["Sorry, this bot is private "] * 2
    security = [r for r in logs.records if r.get("event") == "security_event"]
    assert [r["context"]["command"] for r in security] == ["price", "price", "price", "oi"]


async def test_each_update_starts_with_a_fresh_context(
    sim: TelegramSimulator, bot: Any, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """What one update bound is gone when the next starts: new request id, the new user."""
    await feed(sim, bot, alice, "/help")
    first = dict(get_context())
    await feed(sim, bot, bob, "/help")
    second = dict(get_context())
    assert first["request_id"] != second["request_id"] and first["user"] != second["user"]
    assert first["user"].startswith("u_") and second["update_id"] == first["update_id"] + 1


async def test_empty_allow_list_is_announced_and_refuses_everyone(
    sim: TelegramSimulator, settings: BotSettings, logs: CapturedLogs, alice: SimulatedUser
) -> None:
    """With ALLOWED_USER_IDS empty the start-up log says nobody will be served, and even Alice is refused."""
    async with httpx.AsyncClient() as http:
        app = build_application(replace(settings, allowed_user_ids=frozenset()), http)
        async with app:
            await feed(sim, app, alice, "/help")
    assert sim.messages_for(alice.id)[0]["text"].startswith("Sorry, this bot is private")
    [warning] = [r for r in logs.records if "ALLOWED_USER_IDS is empty" in r["message"]]
    assert warning["level"] == "WARNING"
