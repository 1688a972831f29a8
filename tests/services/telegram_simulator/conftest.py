"""Shared fixtures: a running simulator, simulated users, and a real python-telegram-bot Application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from services.telegram_simulator import SimulatedUser, TelegramSimulator

# PTB 22 warns (PTBDeprecationWarning) whenever it builds an int-seconds period such as
# RetryAfter.retry_after; opting in to the coming timedelta behaviour is PTB's own documented fix.
os.environ["PTB_TIMEDELTA"] = "1"

AppFactory = Callable[..., Application]  # type: ignore[type-arg]


@pytest.fixture
def alice() -> SimulatedUser:
    """A member user."""
    return SimulatedUser(id=100001, first_name="Alice", username="alice")


@pytest.fixture
def bob() -> SimulatedUser:
    """A second member user."""
    return SimulatedUser(id=100002, first_name="Bob", username="bob")


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    """A simulator on a free loopback port, with retries fast enough for tests."""
    async with TelegramSimulator(webhook_retry_delays=(0.02, 0.05, 0.1)) as simulator:
        yield simulator


async def reply_price(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /price <symbol> with a line naming the symbol, as a bot under test would."""
    assert update.effective_message is not None
    symbol = context.args[0].upper() if context.args else "?"
    await update.effective_message.reply_text(f"{symbol}: 42000 USD")


@pytest.fixture
def make_app(sim: TelegramSimulator) -> AppFactory:
    """Build real PTB Applications pointed at the simulator, each with a /price handler."""

    def build(token: str | None = None, **builder: object) -> Application:  # type: ignore[type-arg]
        b = ApplicationBuilder().token(token or sim.token).base_url(sim.base_url)
        b = b.base_file_url(f"{sim.server_url}/file/bot")
        for name, value in builder.items():
            b = getattr(b, name)(value)
        app = b.build()
        app.add_handler(CommandHandler("price", reply_price))
        return app

    return build
