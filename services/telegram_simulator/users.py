"""Simulated Telegram users and the message entities Telegram attaches to what they type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A bot command as Telegram recognises it: "/" + 1-32 word characters, optionally "@botname",
# at the start of the text or after whitespace, ending at whitespace or end of text.
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")

ROLES = ("member", "stranger")


@dataclass(frozen=True)
class SimulatedUser:
    """A person talking to the bot in a private chat (chat id = user id)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    role: str = "member"  # "member": meant to be on the bot's allow-list; "stranger": not
    blocked_bot: bool = False  # the bot's messages to this user fail with 403, as in Telegram

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or isinstance(self.id, bool) or self.id <= 0:
            raise ValueError(f"SimulatedUser.id must be a positive int, got {self.id!r}")
        if not self.first_name:
            raise ValueError(f"SimulatedUser.first_name must be non-empty (user id {self.id})")
        if self.role not in ROLES:
            raise ValueError(f"SimulatedUser.role {self.role!r} is not one of {', '.join(ROLES)}")

    def user_dict(self) -> dict[str, Any]:
        """Render the Bot API User object."""
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    def chat_dict(self) -> dict[str, Any]:
        """Render the Bot API Chat object of this user's private chat with the bot."""
        out: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulatedUser:
        """Build a user from an admin request body ({"id": ..., "first_name": ..., ...})."""
        if not isinstance(data, dict) or "id" not in data:
            raise ValueError(f"user must be an object with at least an 'id', got {data!r}")
        known = {"id", "first_name", "username", "last_name", "language_code", "role", "blocked_bot"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown user field(s) {unknown}; allowed: {sorted(known)}")
        fields = dict(data)
        fields.setdefault("first_name", f"User{data['id']}")
        return cls(**fields)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return the bot_command entities Telegram would attach to text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]
