"""Webhook mode: the simulator pushes updates to a real PTB start_webhook server with its secret token."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.telegram_simulator import SimulatedUser, TelegramSimulator

SECRET = "s3cret-token_1"


def free_port() -> int:
    """A port free on 127.0.0.1 right now (PTB's webhook server needs a number up front)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def webhook_app(sim: TelegramSimulator, make_app: Any) -> AsyncIterator[str]:
    """A PTB Application serving its webhook on 127.0.0.1 with SECRET; yields the webhook URL."""
    port = free_port()
    app = make_app()
    async with app:
        await app.start()
        await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="tg", secret_token=SECRET)
        try:
            yield f"http://127.0.0.1:{port}/tg"
        finally:
            await app.updater.stop()
            await app.stop()


async def test_updates_are_pushed_to_the_webhook(
    sim: TelegramSimulator, webhook_app: str, alice: SimulatedUser
) -> None:
    """start_webhook registers its URL and secret; a command is delivered there and answered."""
    info = sim.webhook_info()
    assert (info["url"], sim.api.webhook.secret_token) == (webhook_app, SECRET)
    sim.send_command(alice, "/price xrp")
    messages = await sim.wait_for_reply(alice.id, timeout=5)
    assert messages[0]["text"] == "XRP: 42000 USD"
    assert sim.webhook_info()["pending_update_count"] == 0
    assert sim.webhook_info()["deliveries"][-1]["status"] == 200


async def test_wrong_secret_is_refused_with_403(
    sim: TelegramSimulator, webhook_app: str, alice: SimulatedUser
) -> None:
    """PTB's webhook answers 403 to a wrong secret; the simulator keeps the update and reports the error."""
    async with aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        async with http.post(webhook_app, json={"update_id": 1}, headers=headers) as response:
            assert response.status == 403
        form = {"url": webhook_app, "secret_token": "not-the-secret"}
        async with http.post(sim.api_url + "setWebhook", data=form) as response:
            assert response.status == 200
    update = sim.send_command(alice, "/price btc")
    while not sim.webhook_info().get("last_error_message"):
        await sim.queue.wait_changed(0.05)
    info = sim.webhook_info()
    assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
    assert [u["update_id"] for u in sim.queue.pending] == [update["update_id"]]
    assert sim.messages_for(alice.id) == []
