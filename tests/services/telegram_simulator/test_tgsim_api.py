"""The Bot API over raw HTTP: encodings, errors and method semantics exactly as Telegram answers them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram.error import BadRequest

from services.telegram_simulator import SimulatedUser, TelegramSimulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """POST and return (status, JSON body)."""
    async with http.post(url, **kwargs) as response:
        return response.status, await response.json()


async def test_unknown_method_is_404(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    """An unknown method answers Telegram's exact 404 body."""
    assert await call(http, sim.api_url + "sendTelepathy") == (
        404, {"ok": False, "error_code": 404, "description": "Not Found"}
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [("987654:WRONG-token", (401, "Unauthorized")), ("not-a-token", (404, "Not Found"))],
)
async def test_wrong_token(sim: TelegramSimulator, http: aiohttp.ClientSession, token: str, expected: Any) -> None:
    """A well-formed wrong token is 401, a malformed one 404, as on api.telegram.org."""
    status, body = await call(http, f"{sim.base_url}{token}/getMe")
    assert (status, body["description"]) == expected


@pytest.mark.parametrize("encoding", ["form", "json", "multipart", "query"])
async def test_every_parameter_encoding_is_accepted(
    sim: TelegramSimulator, http: aiohttp.ClientSession, alice: SimulatedUser, encoding: str
) -> None:
    """sendMessage works with form, JSON, multipart and query-string parameters alike."""
    sim.add_user(alice)
    params = {"chat_id": str(alice.id), "text": f"via {encoding}"}
    kwargs: dict[str, Any] = {
        "form": {"data": params},
        "json": {"json": {"chat_id": alice.id, "text": params["text"]}},
        "multipart": {"data": _multipart(params)},
        "query": {"params": params},
    }[encoding]
    status, body = await call(http, sim.api_url + "sendMessage", **kwargs)
    assert status == 200
    assert body["result"]["text"] == f"via {encoding}"
    assert sim.messages_for(alice.id)[-1]["text"] == f"via {encoding}"


def _multipart(params: dict[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData(params)
    form.add_field("document", b"bytes", filename="x.txt")  # forces multipart/form-data
    return form


async def test_method_names_are_case_insensitive(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    """getme answers like getMe, as Telegram's do."""
    status, body = await call(http, sim.api_url + "getme")
    assert (status, body["result"]["username"]) == (200, "CryptoAssistantSimBot")


@pytest.mark.parametrize(
    ("params", "status", "description"),
    [
        ({"chat_id": "555", "text": "x"}, 400, "Bad Request: chat not found"),
        ({"text": "x"}, 400, "Bad Request: chat_id is empty"),
        ({"chat_id": "100001", "text": " "}, 400, "Bad Request: message text is empty"),
        ({"chat_id": "100001", "text": "x" * 4097}, 400, "Bad Request: message is too long"),
        ({"chat_id": "@alice", "text": "x"}, 200, None),
    ],
)
async def test_send_message_validation(
    sim: TelegramSimulator, http: aiohttp.ClientSession, alice: SimulatedUser,
    params: dict[str, str], status: int, description: str | None,
) -> None:
    """sendMessage refuses unknown chats and empty or oversized text with Telegram's wording."""
    sim.add_user(alice)
    got_status, body = await call(http, sim.api_url + "sendMessage", data=params)
    assert (got_status, body.get("description")) == (status, description)


async def test_blocked_user_is_403(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    """A user who blocked the bot makes sendMessage answer 403 Forbidden."""
    sim.add_user(SimulatedUser(id=7, first_name="Gone", blocked_bot=True))
    status, body = await call(http, sim.api_url + "sendMessage", data={"chat_id": "7", "text": "hi"})
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")


async def test_edit_message_text(sim: TelegramSimulator, http: aiohttp.ClientSession, alice: SimulatedUser) -> None:
    """An edit replaces the text in place; an identical edit is refused as 'not modified'."""
    sim.add_user(alice)
    _, sent = await call(http, sim.api_url + "sendMessage", data={"chat_id": "100001", "text": "loading"})
    edit = {"chat_id": "100001", "message_id": str(sent["result"]["message_id"]), "text": "BTC: 1"}
    status, body = await call(http, sim.api_url + "editMessageText", data=edit)
    assert (status, body["result"]["text"]) == (200, "BTC: 1")
    assert [m["text"] for m in sim.messages_for(alice.id)] == ["BTC: 1"]
    status, body = await call(http, sim.api_url + "editMessageText", data=edit)
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified")
    status, body = await call(http, sim.api_url + "editMessageText", data={**edit, "message_id": "99"})
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")


async def test_chat_action_and_callback_answer(
    sim: TelegramSimulator, http: aiohttp.ClientSession, alice: SimulatedUser
) -> None:
    """sendChatAction records valid actions; answerCallbackQuery accepts a pressed button's id once."""
    sim.add_user(alice)
    assert (await call(http, sim.api_url + "sendChatAction", data={"chat_id": "100001", "action": "typing"}))[0] == 200
    bad = await call(http, sim.api_url + "sendChatAction", data={"chat_id": "100001", "action": "dancing"})
    wrong = "Bad Request: wrong parameter action in request"
    assert bad == (400, {"ok": False, "error_code": 400, "description": wrong})
    assert sim.chats.actions[alice.id] == ["typing"]
    _, sent = await call(http, sim.api_url + "sendMessage", data={"chat_id": "100001", "text": "pick"})
    query = sim.press_button(alice, sent["result"]["message_id"], "refresh")["callback_query"]
    answer = {"callback_query_id": query["id"], "text": "done"}
    assert (await call(http, sim.api_url + "answerCallbackQuery", data=answer))[0] == 200
    assert (await call(http, sim.api_url + "answerCallbackQuery", data=answer))[0] == 400


async def test_my_commands_round_trip(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    """setMyCommands stores the list per scope and language; getMyCommands returns it; bad names fail."""
    commands = [{"command": "price", "description": "Price of a symbol"}]
    assert (await call(http, sim.api_url + "setMyCommands", data={"commands": json.dumps(commands)}))[0] == 200
    assert (await call(http, sim.api_url + "getMyCommands"))[1]["result"] == commands
    assert (await call(http, sim.api_url + "getMyCommands", data={"language_code": "de"}))[1]["result"] == []
    bad = [{"command": "Price!", "description": "x"}]
    status, body = await call(http, sim.api_url + "setMyCommands", data={"commands": json.dumps(bad)})
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")


async def test_get_updates_offsets(sim: TelegramSimulator, http: aiohttp.ClientSession, alice: SimulatedUser) -> None:
    """A positive offset confirms earlier updates; a negative one keeps only the last ones."""
    ids = [sim.send_text(alice, f"m{i}")["update_id"] for i in range(4)]
    _, body = await call(http, sim.api_url + "getUpdates", data={"offset": str(ids[1])})
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = await call(http, sim.api_url + "getUpdates", data={"offset": "-1"})
    assert [u["update_id"] for u in body["result"]] == ids[-1:]
    _, body = await call(http, sim.api_url + "getUpdates", data={"offset": str(ids[-1] + 1), "timeout": "0"})
    assert body["result"] == []


async def test_webhook_info_and_get_updates_conflict(sim: TelegramSimulator, http: aiohttp.ClientSession) -> None:
    """With a webhook set, getUpdates is a 409 Conflict and getWebhookInfo reports the URL."""
    status, body = await call(http, sim.api_url + "setWebhook", data={"url": "http://127.0.0.1:9/hook"})
    assert (status, body["description"]) == (200, "Webhook was set")
    status, body = await call(http, sim.api_url + "getUpdates")
    assert status == 409
    assert body["description"].startswith("Conflict: can't use getUpdates method while webhook is active")
    info = (await call(http, sim.api_url + "getWebhookInfo"))[1]["result"]
    assert (info["url"], info["pending_update_count"]) == ("http://127.0.0.1:9/hook", 0)
    assert (await call(http, sim.api_url + "deleteWebhook"))[1]["description"] == "Webhook was deleted"
    assert (await call(http, sim.api_url + "getUpdates"))[0] == 200


@pytest.mark.parametrize("method", ["close", "logOut"])
async def test_close_and_log_out(sim: TelegramSimulator, http: aiohttp.ClientSession, method: str) -> None:
    """close and logOut answer true."""
    assert await call(http, sim.api_url + method) == (200, {"ok": True, "result": True})


async def test_replies_quote_the_user_message(
    sim: TelegramSimulator, make_app: Any, alice: SimulatedUser
) -> None:
    """A reply to the user's message carries reply_to_message; a reply to a missing one is a 400."""
    update = sim.send_command(alice, "/price btc")
    async with make_app() as app:
        sent = await app.bot.send_message(alice.id, "BTC: 1", reply_to_message_id=update["message"]["message_id"])
        assert sent.reply_to_message is not None and sent.reply_to_message.text == "/price btc"
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await app.bot.send_message(alice.id, "x", reply_to_message_id=999)
        await app.bot.send_message(alice.id, "y", reply_to_message_id=999, allow_sending_without_reply=True)
    assert [m["text"] for m in sim.messages_for(alice.id)] == ["BTC: 1", "y"]
