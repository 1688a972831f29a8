"""/_admin/* endpoints: what a demo in another process uses to drive users and read replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.telegram_simulator import TelegramSimulator


@pytest.fixture
async def admin(sim: TelegramSimulator) -> AsyncIterator[Any]:
    """An HTTP helper: admin(method, path, json=...) -> (status, body)."""
    async with aiohttp.ClientSession(base_url=sim.server_url) as http:

        async def request(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
            async with http.request(method, path, **kwargs) as response:
                return response.status, await response.json()

        yield request


async def test_send_then_read_replies_over_http(sim: TelegramSimulator, make_app: Any, admin: Any) -> None:
    """POST /_admin/send queues a user's command; a polling bot answers; GET /_admin/messages shows it."""
    status, body = await admin("POST", "/_admin/send", json={"user": {"id": 555, "first_name": "Eve"},
                                                            "text": "/price eth"})
    assert (status, body["result"]["message"]["entities"][0]["length"]) == (200, 6)
    app = make_app()
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        await sim.wait_for_reply(555)
        await app.updater.stop()
        await app.stop()
    status, body = await admin("GET", "/_admin/messages", params={"chat_id": "555"})
    assert (status, [m["text"] for m in body["result"]]) == (200, ["ETH: 42000 USD"])
    _, everything = await admin("GET", "/_admin/messages")
    assert list(everything["result"]) == ["555"]
    _, calls = await admin("GET", "/_admin/calls", params={"method": "sendMessage"})
    assert [c["status"] for c in calls["result"]] == [200]
    status, waited = await admin("GET", "/_admin/wait_for_reply", params={"chat_id": "555", "timeout": "1"})
    assert (status, waited["result"][0]["text"]) == (200, "ETH: 42000 USD")
    status, waited = await admin("GET", "/_admin/wait_for_reply", params={"chat_id": "555", "count": "2",
                                                                          "timeout": "0.05"})
    assert (status, waited["error"]) == (408, "user 555 received 1 message(s) within 0.05s, expected 2")
    _, stats = await admin("GET", "/_admin/stats")
    assert stats["result"]["updates_queued"] == stats["result"]["messages_sent"] == 1
    assert stats["result"]["calls"]["sendMessage"] == {"200": 1}


@pytest.mark.parametrize(
    ("path", "payload", "error"),
    [
        ("/_admin/send", {"user": {"id": 1}, "text": ""}, "text must be a non-empty string"),
        ("/_admin/send", {"user": {"id": -1}, "text": "hi"}, "positive int"),
        ("/_admin/send", ["not", "an", "object"], "must be a JSON object"),
        ("/_admin/wait_for_reply?chat_id=x", None, "chat_id (int) is required"),
        ("/_admin/wait_for_reply?chat_id=1&timeout=600", None, "timeout must be > 0 and <= 60"),
        ("/_admin/faults", {"kind": "teapot"}, "allowed: '429', '5xx'"),
        ("/_admin/faults", {"kind": "5xx", "status": 501}, "allowed: 500, 502, 503, 504"),
    ],
)
async def test_bad_admin_requests_say_what_is_allowed(admin: Any, path: str, payload: Any, error: str) -> None:
    """A bad admin request is a 400 whose error names the problem and what is allowed."""
    method = "POST" if payload is not None else "GET"
    status, body = await admin(method, path, json=payload)
    assert status == 400
    assert error in body["error"]


async def test_faults_over_http(sim: TelegramSimulator, admin: Any) -> None:
    """POST /_admin/faults arms a 429 the Bot API then answers; DELETE disarms."""
    assert (await admin("POST", "/_admin/faults", json={"kind": "429", "retry_after": 2, "count": 2}))[1] == {
        "ok": True, "result": {"armed": 2}
    }
    status, body = await admin("POST", f"/bot{sim.token}/getMe")
    assert (status, body["parameters"]) == (429, {"retry_after": 2})
    await admin("DELETE", "/_admin/faults")
    assert (await admin("POST", f"/bot{sim.token}/getMe"))[0] == 200


async def test_traffic_over_http(sim: TelegramSimulator, admin: Any) -> None:
    """POST /_admin/traffic starts seeded traffic; GET reports it finished with counts."""
    status, body = await admin("POST", "/_admin/traffic", json={"duration_s": 0.3, "rate_per_s": 20, "users": 6})
    assert status == 200
    assert [u["role"] for u in body["result"]["users"]].count("stranger") == 1
    assert (await admin("POST", "/_admin/traffic", json={}))[0] == 409
    while sim.traffic["state"] == "running":
        await sim.queue.wait_changed(0.1)
    _, body = await admin("GET", "/_admin/traffic")
    assert body["result"]["state"] == "finished"
    assert body["result"]["report"]["sent"] == len(sim.queue.pending) > 0
    _, users = await admin("GET", "/_admin/users")
    assert len(users["result"]) == 6
