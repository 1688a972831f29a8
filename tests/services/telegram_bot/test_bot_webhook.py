"""Webhook mode: the simulator posts updates to the bot's own webhook server, which checks the secret token."""

from __future__ import annotations

from typing import Any

import aiohttp

from crypto_observability.shared.testing import CapturedLogs, validate_record
from services.telegram_simulator import SimulatedUser, TelegramSimulator

SECRET = "webhook-secret_42"


def webhook_settings(port: int) -> dict[str, Any]:
    """Overrides that put the bot in webhook mode on a loopback port."""
    return {"mode": "webhook", "webhook_listen": "127.0.0.1", "webhook_port": port,
            "webhook_url": f"http://127.0.0.1:{port}/telegram", "webhook_secret_token": SECRET}


async def test_webhook_registers_its_secret_and_answers(
    sim: TelegramSimulator, running_bot: Any, alice: SimulatedUser, free_port: int
) -> None:
    """The bot registers its URL with the secret; a pushed /price is answered to the user."""
    async with running_bot(**webhook_settings(free_port)) as info:
        assert sim.webhook_info()["url"] == info["webhook_url"] == f"http://127.0.0.1:{free_port}/telegram"
        assert sim.api.webhook.secret_token == SECRET
        sim.send_command(alice, "/price btc")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"].startswith("💰 BTC-USDT price")
    assert sim.webhook_info()["deliveries"][-1]["status"] == 200


async def test_wrong_or_missing_secret_is_refused_and_logged(
    sim: TelegramSimulator, market: Any, running_bot: Any, logs: CapturedLogs, alice: SimulatedUser, free_port: int
) -> None:
    """A POST with a wrong or no secret gets 403, reaches no handler, and is a security_event each time."""
    update = {"update_id": 99, "message": {"message_id": 1, "date": 0, "text": "/price btc",
                                           "chat": {"id": alice.id, "type": "private"},
                                           "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
                                           "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    async with running_bot(**webhook_settings(free_port)) as info, aiohttp.ClientSession() as http:
        statuses = []
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}, {}):
            async with http.post(info["webhook_url"], json=update, headers=headers) as response:
                statuses.append(response.status)
    assert statuses == [403, 403]
    assert market.received == [] and sim.messages_for(alice.id) == []
    reasons = [r["context"]["reason"] for r in logs.records if r.get("event") == "security_event"]
    assert reasons == ["wrong_secret_token", "missing_secret_token"]
    assert not [line for line in logs.lines if b"not-the-secret" in line or SECRET.encode() in line]
    for record in logs.records:
        validate_record(record)


async def test_junk_with_the_right_secret_is_a_400(running_bot: Any, free_port: int) -> None:
    """A body that is not an update is refused with 400 instead of crashing the server."""
    async with running_bot(**webhook_settings(free_port)) as info, aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(info["webhook_url"], data=b"{not json", headers=headers) as response:
            assert response.status == 400
