"""parse_mode checks: the simulator refuses the malformed markup Telegram refuses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.helpers import escape_markdown

from services.telegram_simulator import ApiError, SimulatedUser, TelegramSimulator
from services.telegram_simulator.formatting import visible_text


@pytest.mark.parametrize(
    ("text", "mode", "visible"),
    [
        ("<b>BTC</b> 42 &lt;up&gt;", "HTML", "BTC 42 <up>"),
        ('<a href="https://x.y">link</a> &amp; <code>1 &lt; 2</code>', "HTML", "link & 1 < 2"),
        (r"*BTC* price: 42\.5 \(\+1\.2%\)", "MarkdownV2", "BTC price: 42.5 (+1.2%)"),
        (r"__u__ _i_ ~s~ ||sp|| [site](https://x.y/a_b) `a.b` ```py\nx = 1.0```", "MarkdownV2",
         "u i s sp site a.b py\\nx = 1.0"),
        ("*bold* _it_ `co.de` [t](http://u)", "Markdown", "bold it co.de t"),
        ("plain. text! (ok)", None, "plain. text! (ok)"),
    ],
)
def test_well_formed_markup_is_accepted(text: str, mode: str | None, visible: str) -> None:
    """Valid markup passes, and the visible text is what the user would read."""
    assert visible_text(text, mode) == visible


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("BTC: 42.5", "MarkdownV2", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*BTC", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("`code", "MarkdownV2", "Can't find end of Code entity at byte offset 0"),
        ("<b>BTC", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", "HTML", "Unclosed start tag at byte offset 2"),
        ("1 <marquee>2", "HTML", 'Unsupported start tag "marquee" at byte offset 2'),
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("*bold", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_malformed_markup_is_refused(text: str, mode: str, error: str) -> None:
    """Malformed markup is a 400 'can't parse entities' with Telegram's detail."""
    with pytest.raises(ApiError) as caught:
        visible_text(text, mode)
    assert (caught.value.code, caught.value.description) == (400, f"Bad Request: can't parse entities: {error}")


def test_unknown_parse_mode() -> None:
    """An unknown parse_mode is refused."""
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        visible_text("x", "BBCode")


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60))
def test_escape_markdown_output_is_always_accepted(raw: str) -> None:
    """Whatever the text, PTB's escape_markdown(version=2) output parses back to the same visible text."""
    assert visible_text(escape_markdown(raw, version=2), "MarkdownV2") == raw


async def test_ptb_sees_bad_request_for_unescaped_markdown(sim: TelegramSimulator, make_app: Any) -> None:
    """A real bot sending unescaped MarkdownV2 gets BadRequest; escaped text goes through."""
    user = SimulatedUser(id=31, first_name="Md")
    sim.add_user(user)
    async with make_app() as app:
        with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
            await app.bot.send_message(user.id, "BTC: 42.5", parse_mode=ParseMode.MARKDOWN_V2)
        await app.bot.send_message(user.id, escape_markdown("BTC: 42.5", version=2), parse_mode=ParseMode.MARKDOWN_V2)
    [message] = sim.messages_for(user.id)
    assert (message["text"], message["parse_mode"]) == ("BTC: 42\\.5", "MarkdownV2")
