"""A real python-telegram-bot Application polling the simulator."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from services.telegram_simulator import SimulatedUser, TelegramSimulator


async def _run_polling(app: Any, body: Any) -> Any:
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        try:
            return await body()
        finally:
            await app.updater.stop()
            await app.stop()


async def test_polling_reply_reaches_the_sender(
    sim: TelegramSimulator, make_app: Any, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """A /price from a simulated user is answered to that user and to nobody else."""
    sim.send_command(alice, "/price btc")
    messages = await _run_polling(make_app(), lambda: sim.wait_for_reply(alice.id, timeout=5))
    assert [m["text"] for m in messages] == ["BTC: 42000 USD"]
    assert messages[0]["chat"]["id"] == alice.id
    assert messages[0]["from"]["is_bot"] is True
    assert sim.messages_for(bob.id) == []


async def test_no_update_is_delivered_twice_across_restarts(
    sim: TelegramSimulator, make_app: Any, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """Offsets confirm what a poller fetched: a second poller sees only the new updates."""
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        assert update.effective_message is not None
        await update.effective_message.reply_text("ok")

    def app_recording() -> Any:
        app = make_app()
        app.add_handler(MessageHandler(filters.ALL, record), group=1)
        return app

    first = [sim.send_command(alice, "/price eth")["update_id"], sim.send_text(bob, "hello")["update_id"]]
    await _run_polling(app_recording(), lambda: sim.wait_for_reply(bob.id, count=1))
    second = [sim.send_command(alice, "/price sol")["update_id"]]
    await _run_polling(app_recording(), lambda: sim.wait_for_reply(alice.id, count=4))
    assert seen == first + second
    assert first + second == sorted(set(first + second))
    assert sim.queue.pending == []
