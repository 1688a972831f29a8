"""Private chats between simulated users and the bot: message ids, what the bot sent, edits, actions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .errors import bad_request, forbidden
from .formatting import visible_text
from .users import SimulatedUser, command_entities

MAX_TEXT = 4096
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})


class ChatStore:
    """Everything said in the bot's private chats, by chat id (= user id)."""

    def __init__(self, bot_user: dict[str, Any], clock: Callable[[], float]) -> None:
        self.bot_user = bot_user
        self._clock = clock
        self.users: dict[int, SimulatedUser] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: dict[int, list[dict[str, Any]]] = {}
        self._received: dict[int, dict[int, dict[str, Any]]] = {}  # chat -> message id -> user message
        self.actions: dict[int, list[str]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self._query_ids = itertools.count(1)

    def now(self) -> int:
        """Unix time in whole seconds, as every Telegram date is."""
        return int(self._clock())

    def register(self, user: SimulatedUser) -> None:
        """Open (or refresh) the user's private chat with the bot."""
        self.users[user.id] = user

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def user_message(self, user: SimulatedUser, text: str) -> dict[str, Any]:
        """Build the Message a user's text becomes, with the entities Telegram attaches."""
        if not text:
            raise ValueError(f"text sent by user {user.id} must be non-empty")
        self.register(user)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(user.id),
            "from": user.user_dict(),
            "chat": user.chat_dict(),
            "date": self.now(),
            "text": text,
        }
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        self._received.setdefault(user.id, {})[message["message_id"]] = message
        return message

    def replied_message(self, chat_id: int, reply: dict[str, Any] | None) -> dict[str, Any] | None:
        """Resolve reply_parameters to the message replied to, failing as Telegram does when it is gone."""
        if not reply:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply["message_id"]
        found = self._received.get(chat_id, {}).get(message_id) or next(
            (m for m in self._sent.get(chat_id, []) if m["message_id"] == message_id), None
        )
        if found is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return found

    def callback_query(self, user: SimulatedUser, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Build the CallbackQuery of a user pressing an inline button under a bot message."""
        query_id = f"{user.id}{next(self._query_ids):08d}"
        query = {
            "id": query_id,
            "from": user.user_dict(),
            "message": message,
            "chat_instance": f"{user.id}000",
            "data": data,
        }
        self.callback_queries[query_id] = {"query": query, "answer": None}
        return query

    def chat_for(self, chat_id: int | str | None) -> SimulatedUser:
        """Resolve a chat_id parameter to a user, failing as Telegram does."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            user = next((u for u in self.users.values() if u.username == chat_id[1:]), None)
        else:
            try:
                user = self.users.get(int(chat_id))
            except ValueError:
                user = None
        if user is None:
            raise bad_request("chat not found")
        if user.blocked_bot:
            raise forbidden("bot was blocked by the user")
        return user

    def bot_message(self, user: SimulatedUser, text: str | None, extras: dict[str, Any]) -> dict[str, Any]:
        """Record a message from the bot to a user and return it as the API does."""
        check_text(text, extras.get("parse_mode"))
        message: dict[str, Any] = {
            "message_id": self._next_message_id(user.id),
            "from": self.bot_user,
            "chat": user.chat_dict(),
            "date": self.now(),
            "text": text,
            **extras,
        }
        self._sent.setdefault(user.id, []).append(message)
        return message

    def find(self, chat_id: int, message_id: int | None, missing: str) -> dict[str, Any]:
        """Return a bot message by chat and id, or fail with Telegram's wording."""
        for message in self._sent.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        raise bad_request(missing)

    def edit(self, message: dict[str, Any], text: str | None, extras: dict[str, Any]) -> dict[str, Any]:
        """Replace a bot message's text in place, refusing a no-op edit as Telegram does."""
        check_text(text, extras.get("parse_mode"))
        unchanged = message["text"] == text and all(message.get(k) == v for k, v in extras.items())
        if unchanged:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message.pop("parse_mode", None)  # an edit's text is plain unless the edit names a parse_mode
        message.update(text=text, edit_date=self.now(), **extras)
        return message

    def delete(self, chat_id: int, message_id: int | None) -> None:
        """Remove a bot message from the chat."""
        message = self.find(chat_id, message_id, "message to delete not found")
        self._sent[chat_id].remove(message)

    def messages_for(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot sent to this chat, oldest first (edits applied)."""
        return [dict(m) for m in self._sent.get(chat_id, [])]

    def all_messages(self) -> dict[int, list[dict[str, Any]]]:
        """What the bot sent, by chat id."""
        return {chat: self.messages_for(chat) for chat in self._sent}


def check_text(text: str | None, parse_mode: str | None = None) -> None:
    """Apply Telegram's checks on message text: present, well-formed markup, at most 4096 visible characters."""
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    visible = visible_text(text, parse_mode)
    if not visible.strip():
        raise bad_request("text must be non-empty")
    if len(visible) > MAX_TEXT:
        raise bad_request("message is too long")


def public(message: dict[str, Any]) -> dict[str, Any]:
    """The Message as the API returns it: without the request-only parse_mode kept for tests."""
    return {k: v for k, v in message.items() if k != "parse_mode"}
