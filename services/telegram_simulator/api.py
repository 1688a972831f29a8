"""The Bot API methods the simulator answers, each taking parsed parameters and returning a result."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from .chats import CHAT_ACTIONS, ChatStore, public
from .errors import bad_request, conflict
from .params import Params
from .updates import UpdateQueue
from .webhook_config import WebhookConfig

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MESSAGE_EXTRAS = ("reply_markup", "link_preview_options")

Result = tuple[Any, str | None]  # (result, optional description)
Method = Callable[[Params], Awaitable[Result]]


class BotApi:
    """One bot's view of Telegram: its identity, updates, chats, webhook and command list."""

    def __init__(self, bot_user: dict[str, Any], queue: UpdateQueue, chats: ChatStore) -> None:
        self.bot_user = bot_user
        self.queue = queue
        self.chats = chats
        self.webhook = WebhookConfig()
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.methods: dict[str, Method] = {
            name.lower(): getattr(self, f"_{_snake(name)}")
            for name in (
                "getMe", "getUpdates", "sendMessage", "editMessageText", "deleteMessage",
                "sendChatAction", "answerCallbackQuery", "setWebhook", "deleteWebhook",
                "getWebhookInfo", "setMyCommands", "getMyCommands", "deleteMyCommands", "close", "logOut",
            )
        }

    def method(self, name: str) -> Method | None:
        """Find a method by name; like Telegram, names are case-insensitive."""
        return self.methods.get(name.lower())

    async def _get_me(self, params: Params) -> Result:
        return self.bot_user, None

    async def _get_updates(self, params: Params) -> Result:
        if self.webhook.url:
            raise _conflict_webhook()
        allowed = params.get_json("allowed_updates")
        timeout = params.get_int("timeout", 0) or 0
        limit = params.get_int("limit", 100) or 100
        offset = params.get_int("offset", 0) or 0
        return await self.queue.get_updates(offset, limit, timeout, allowed), None

    async def _send_message(self, params: Params) -> Result:
        user = self.chats.chat_for(params.get_str("chat_id"))
        extras = _extras(params)
        replied = self.chats.replied_message(user.id, _reply_parameters(params))
        if replied is not None:
            extras["reply_to_message"] = public(replied)
        return public(self.chats.bot_message(user, params.get_str("text"), extras)), None

    async def _edit_message_text(self, params: Params) -> Result:
        if params.has("inline_message_id"):
            raise bad_request("message to edit not found")
        user = self.chats.chat_for(params.get_str("chat_id"))
        message = self.chats.find(user.id, params.get_int("message_id"), "message to edit not found")
        return public(self.chats.edit(message, params.get_str("text"), _extras(params))), None

    async def _delete_message(self, params: Params) -> Result:
        user = self.chats.chat_for(params.get_str("chat_id"))
        self.chats.delete(user.id, params.get_int("message_id"))
        return True, None

    async def _send_chat_action(self, params: Params) -> Result:
        user = self.chats.chat_for(params.get_str("chat_id"))
        action = params.get_str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chats.actions.setdefault(user.id, []).append(action)
        return True, None

    async def _answer_callback_query(self, params: Params) -> Result:
        entry = self.chats.callback_queries.get(params.get_str("callback_query_id") or "")
        if entry is None or entry["answer"] is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        entry["answer"] = {k: v for k, v in params.raw().items() if k != "callback_query_id"}
        return True, None

    async def _set_webhook(self, params: Params) -> Result:
        url = params.get_str("url") or ""
        if params.get_bool("drop_pending_updates"):
            self.queue.drop_all()
        if not url:
            return await self._delete_webhook(Params({}))
        max_connections = params.get_int("max_connections", 40) or 40
        self.webhook.set(url, params.get_str("secret_token"), max_connections, params.get_str("ip_address"))
        allowed = params.get_json("allowed_updates")
        self.queue.set_allowed(allowed)
        self.webhook.allowed_updates = allowed or None
        self.queue.notify()
        return True, "Webhook was set"

    async def _delete_webhook(self, params: Params) -> Result:
        if params.get_bool("drop_pending_updates"):
            self.queue.drop_all()
        was_set = bool(self.webhook.url)
        self.webhook.clear()
        self.queue.notify()
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    async def _get_webhook_info(self, params: Params) -> Result:
        return self.webhook.info(len(self.queue.pending)), None

    async def _set_my_commands(self, params: Params) -> Result:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands: a JSON array of at most 100 BotCommand is expected")
        for item in commands:
            ok = isinstance(item, dict) and _COMMAND_NAME.fullmatch(str(item.get("command", "")))
            if not ok or not 1 <= len(str(item.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[_scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True, None

    async def _get_my_commands(self, params: Params) -> Result:
        return self.commands.get(_scope_key(params), []), None

    async def _delete_my_commands(self, params: Params) -> Result:
        self.commands.pop(_scope_key(params), None)
        return True, None

    async def _close(self, params: Params) -> Result:
        return True, None

    async def _log_out(self, params: Params) -> Result:
        return True, None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _extras(params: Params) -> dict[str, Any]:
    """Message fields echoed back from the request (parse_mode is kept so tests can see it)."""
    out = {k: params.get_json(k) for k in _MESSAGE_EXTRAS if params.has(k)}
    if params.has("parse_mode"):
        out["parse_mode"] = params.get_str("parse_mode")
    return out


def _reply_parameters(params: Params) -> dict[str, Any] | None:
    """reply_parameters, or the older reply_to_message_id / allow_sending_without_reply pair."""
    if params.has("reply_parameters"):
        return params.get_json("reply_parameters")  # type: ignore[no-any-return]
    if params.has("reply_to_message_id"):
        return {
            "message_id": params.get_int("reply_to_message_id"),
            "allow_sending_without_reply": params.get_bool("allow_sending_without_reply"),
        }
    return None


def _scope_key(params: Params) -> tuple[str, str]:
    scope = params.get_json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get_str("language_code") or ""


def _conflict_webhook() -> Exception:
    return conflict(
        "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )
