"""Simulated users and the bot_command entities Telegram attaches to their text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.telegram_simulator import SimulatedUser, TelegramSimulator, command_entities

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=32)
prose = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), max_size=20)


def utf16_slice(text: str, offset: int, length: int) -> str:
    """Cut text the way Telegram counts: in UTF-16 code units."""
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le")


@settings(max_examples=60, deadline=None)
@given(prefix=prose, name=names, mention=st.sampled_from(["", "@CryptoAssistantSimBot"]), args=prose)
def test_entity_covers_exactly_the_command(prefix: str, name: str, mention: str, args: str) -> None:
    """Whatever precedes it (emoji included), the entity's UTF-16 span is exactly '/name[@bot]'."""
    lead = f"{prefix} " if prefix else ""
    text = f"{lead}/{name}{mention} {args}"
    entities = command_entities(text)
    assert entities[0]["type"] == "bot_command"
    assert utf16_slice(text, entities[0]["offset"], entities[0]["length"]) == f"/{name}{mention}"


@pytest.mark.parametrize("text", ["hello", "a/b", "/" + "x" * 33, "http://x.y/price", "/"])
def test_no_entity_for_non_commands(text: str) -> None:
    """Paths, URLs, overlong names and plain words carry no bot_command entity."""
    assert command_entities(text) == []


def test_send_command_builds_a_realistic_update(sim: TelegramSimulator) -> None:
    """A command becomes a private-chat message with from, chat (id = user id), date, text and entity."""
    user = SimulatedUser(id=42, first_name="Ada", username="ada", last_name="L")
    update = sim.send_command(user, "/price BTC")
    assert update == {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "from": {"id": 42, "is_bot": False, "first_name": "Ada", "last_name": "L",
                     "username": "ada", "language_code": "en"},
            "chat": {"id": 42, "type": "private", "first_name": "Ada", "last_name": "L", "username": "ada"},
            "date": update["message"]["date"],
            "text": "/price BTC",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    assert sim.send_text(user, "thanks")["update_id"] == 2
    assert "entities" not in sim.queue.pending[-1]["message"]


def test_dates_come_from_the_injected_clock() -> None:
    """Message dates are whole seconds of the simulator's clock."""
    sim = TelegramSimulator(clock=lambda: 1_700_000_000.9)
    update = sim.send_text(SimulatedUser(id=1, first_name="A"), "hi")
    assert update["message"]["date"] == 1_700_000_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": 0, "first_name": "A"}, "positive int"),
        ({"id": 1, "first_name": ""}, "first_name must be non-empty"),
        ({"id": 1, "first_name": "A", "role": "admin"}, "not one of member, stranger"),
    ],
)
def test_bad_users_are_refused(fields: dict[str, Any], message: str) -> None:
    """A user with a bad field fails with a message naming it."""
    with pytest.raises(ValueError, match=message):
        SimulatedUser(**fields)


def test_from_dict_rejects_unknown_fields() -> None:
    """An admin-supplied user with an unknown field is refused, listing the allowed ones."""
    assert SimulatedUser.from_dict({"id": 5}).first_name == "User5"
    with pytest.raises(ValueError, match="unknown user field"):
        SimulatedUser.from_dict({"id": 5, "nickname": "x"})


def test_send_command_requires_a_slash(sim: TelegramSimulator) -> None:
    """send_command refuses text that is not a command, pointing at send_text."""
    with pytest.raises(ValueError, match="use send_text"):
        sim.send_command(SimulatedUser(id=1, first_name="A"), "price BTC")
