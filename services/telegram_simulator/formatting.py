"""parse_mode checks: malformed HTML or MarkdownV2 fails with Telegram's "can't parse entities" error.

A bot that forgets to escape a "." in MarkdownV2 or a "<" in HTML works against a lenient fake
and fails in production; the simulator refuses the same messages Telegram refuses.
"""

from __future__ import annotations

import html
import re

from .errors import ApiError, bad_request

HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
})
MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")


def visible_text(text: str, parse_mode: str | None) -> str:
    """Return the text the user sees once markup is applied; malformed markup raises a 400 ApiError."""
    if parse_mode is None or parse_mode == "":
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _html(text)
    if mode == "markdownv2":
        return _markdown_v2(text)
    if mode == "markdown":
        return _markdown(text)
    raise bad_request("unsupported parse_mode")


def _fail(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&" and (entity := _HTML_ENTITY.match(text, i)):
            out.append(html.unescape(entity.group()))
            i = entity.end()
        elif char == "<":
            end = text.find(">", i)
            if end < 0:
                raise _fail(f"Unclosed start tag at byte offset {_offset(text, i)}")
            _html_tag(text, i, text[i + 1 : end], stack)
            i = end + 1
        else:
            out.append(char)
            i += 1
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _html_tag(text: str, index: int, body: str, stack: list[str]) -> None:
    if body.startswith("/"):
        name = body[1:].strip().lower()
        if not stack:
            raise _fail(f"Unexpected end tag at byte offset {_offset(text, index)}")
        if name and name != stack[-1]:
            raise _fail(
                f'Unmatched end tag at byte offset {_offset(text, index)}, expected "</{stack[-1]}>", '
                f'found "</{name}>"'
            )
        stack.pop()
        return
    match = _TAG_NAME.match(body)
    name = match.group().lower() if match else body
    if name not in HTML_TAGS:
        raise _fail(f'Unsupported start tag "{name}" at byte offset {_offset(text, index)}')
    stack.append(name)


def _markdown_v2(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 >= n or ord(text[i + 1]) > 126:
                raise _reserved("\\")
            out.append(text[i + 1])
            i += 2
        elif char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                kind = "PreCode" if fence == "```" else "Code"
                raise _fail(f"Can't find end of {kind} entity at byte offset {_offset(text, i)}")
            out.append(text[i + len(fence) : end].replace("\\`", "`").replace("\\\\", "\\"))
            i = end + len(fence)
        elif char in "*~_|[":
            i = _toggle(text, i, stack)
        elif char == "]":
            if not stack or stack[-1][0] != "[":
                raise _reserved("]")
            stack.pop()
            i += 1
            if text.startswith("(", i):
                end = _find_unescaped(text, ")", i + 1)
                if end < 0:
                    raise _fail(f"Can't find end of a URL at byte offset {_offset(text, i)}")
                i = end + 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote line
        elif char in MDV2_RESERVED:
            raise _reserved(char)
        else:
            out.append(char)
            i += 1
    if stack:
        marker, start = stack[-1]
        raise _fail(f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset {_offset(text, start)}")
    return "".join(out)


def _toggle(text: str, i: int, stack: list[tuple[str, int]]) -> int:
    """Open or close a MarkdownV2 span marker at text[i]; return the index after it."""
    char = text[i]
    if char == "|":
        if not text.startswith("||", i):
            raise _reserved("|")
        marker = "||"
    elif char == "_" and text.startswith("__", i) and not (stack and stack[-1][0] == "_"):
        marker = "__"
    else:
        marker = char
    if marker != "[" and stack and stack[-1][0] == marker:
        stack.pop()
    else:
        stack.append((marker, i))
    return i + len(marker)


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(needle, i):
            return i
        else:
            i += 1
    return -1


def _reserved(char: str) -> ApiError:
    return _fail(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _markdown(text: str) -> str:
    """Legacy Markdown: *, _, ` and [ spans must be closed; nothing else is reserved."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        closer = {"*": "*", "_": "_", "`": "`", "[": "]"}.get(char)
        if closer is None:
            out.append(char)
            i += 1
            continue
        end = text.find("```", i + 3) if text.startswith("```", i) else text.find(closer, i + 1)
        if end < 0:
            raise _fail(f"Can't find end of the entity starting at byte offset {_offset(text, i)}")
        if text.startswith("```", i):
            out.append(text[i + 3 : end])
            i = end + 3
            continue
        out.append(text[i + 1 : end])
        i = end + 1
        if char == "[" and text.startswith("(", i):
            close = text.find(")", i)
            i = close + 1 if close >= 0 else i
    return "".join(out)
