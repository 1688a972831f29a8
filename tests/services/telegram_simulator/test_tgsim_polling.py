"""A real python-telegram-bot Application polling the simulator."""

from __future__ import annotations

from typing import Any

from services.telegram_simulator import SimulatedUser, TelegramSimulator


async def test_polling_reply_reaches_the_sender(
    sim: TelegramSimulator, make_app: Any, alice: SimulatedUser, bob: SimulatedUser
) -> None:
    """A /price from a simulated user is answered to that user and to nobody else."""
    app = make_app()
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        sim.send_command(alice, "/price btc")
        messages = await sim.wait_for_reply(alice.id, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert [m["text"] for m in messages] == ["BTC: 42000 USD"]
    assert messages[0]["chat"]["id"] == alice.id
    assert sim.messages_for(bob.id) == []
