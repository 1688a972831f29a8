"""How ``search`` prints what it found: the library's console line, JSON lines, or a table of fields.

Everything shown on a terminal passes ``sanitise`` first: control characters (escape sequences, carriage
returns, bidirectional overrides) in log text become visible escapes, so a logged message cannot repaint
or hide anything on the operator's screen. JSON output is the records' own bytes, as jq expects them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import IO, Any

import orjson

from crypto_observability.log_analyzer.search_files import Hit
from crypto_observability.log_analyzer.search_query import MISSING, lookup
from crypto_observability.shared.console import render_console

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_STACK_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
WIDTHS = {"timestamp": 24, "level": 8, "service": 13, "module": 18, "event": 20, "request_id": 32, "user": 18}


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def clean_text(text: str, keep_newlines: bool = False) -> str:
    """Return ``text`` with every control character shown as an escape (``\\x1b``), newlines kept if asked."""
    return (_STACK_CONTROL if keep_newlines else _CONTROL).sub(_escape, text)


def sanitise(value: Any, keep_newlines: bool = False) -> Any:
    """Return a copy of a record (or any JSON value) whose keys and strings are safe to print."""
    if isinstance(value, str):
        return clean_text(value, keep_newlines)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): sanitise(v, keep_newlines) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitise(v, keep_newlines) for v in value]
    return value


def _safe_record(record: Mapping[str, Any]) -> dict[str, Any]:
    safe = sanitise({k: v for k, v in record.items() if k != "exception"})
    exception = record.get("exception")
    if isinstance(exception, Mapping):
        safe["exception"] = sanitise(exception, keep_newlines=True)  # the stack trace stays one frame a line
    return safe  # type: ignore[no-any-return]


def console_line(record: Mapping[str, Any], colour: bool) -> str:
    """Render one record as the library's console line (plus its indented stack trace), sanitised."""
    safe = _safe_record(record)
    for key in ("timestamp", "service", "module", "level", "message"):
        safe.setdefault(key, "")
    error = safe.get("error")
    if error is not None and not (isinstance(error, dict) and {"category", "severity"} <= set(error)):
        safe["error"] = {"category": str(error), "severity": "?"}
    return render_console(safe, colour=colour).decode("utf-8", "replace")


class HitWriter:
    """Writes hits to a stream in one of the three forms, remembering what it needs between hits."""

    def __init__(self, out: IO[str], fmt: str = "text", fields: Sequence[str] = (), colour: bool = False,
                 context: int = 0) -> None:
        self.out, self.fmt, self.fields, self.colour, self.context = out, fmt, tuple(fields), colour, context
        self._day: str | None = None
        self._last: Hit | None = None
        self._header = False

    def write(self, hit: Hit) -> None:
        """Write one hit."""
        if self.fmt == "json":
            self._json(hit)
        elif self.fields:
            self._row(hit)
        else:
            self._text(hit)
        self._last = hit

    def _json(self, hit: Hit) -> None:
        if not self.fields and (hit.match or not self.context):
            self.out.write(hit.raw.decode("utf-8", "replace") + "\n")
            return
        record = hit.record() or {}
        data: dict[str, Any] = {f: _plain(lookup(record, f)) for f in self.fields} if self.fields else record
        if not hit.match:
            data = {**data, "_context": True}
        self.out.write(orjson.dumps(data).decode() + "\n")

    def _gap(self, hit: Hit) -> bool:
        last = self._last
        return last is not None and (last.path != hit.path or hit.line > last.line + 1)

    def _text(self, hit: Hit) -> None:
        record = hit.record()
        day = hit.ts[:10]
        if day and day != self._day:
            self.out.write(self._dim(f"── {day} ──") + "\n")
            self._day = day
        elif self.context and self._gap(hit):
            self.out.write(self._dim("--") + "\n")
        if record is None:
            line = clean_text(hit.raw.decode("utf-8", "replace")) + "\n"
        else:
            line = console_line(record, self.colour and hit.match)
        if self.context:
            line = ("> " if hit.match else "  ") + (line if hit.match else self._dim(line.rstrip("\n")) + "\n")
        self.out.write(line)

    def _row(self, hit: Hit) -> None:
        if not self._header:
            self.out.write(self._cells(self.fields) + "\n")
            self._header = True
        record = hit.record() or {}
        cells = [_cell(lookup(record, f)) for f in self.fields]
        row = self._cells(cells)
        self.out.write((row if hit.match else self._dim(row)) + "\n")

    def _cells(self, cells: Sequence[str]) -> str:
        last = len(cells) - 1
        return "  ".join(c if i == last else c.ljust(WIDTHS.get(self.fields[i], 16)) for i, c in enumerate(cells))

    def _dim(self, text: str) -> str:
        return f"{_DIM}{text}{_RESET}" if self.colour else text


def _plain(value: Any) -> Any:
    return None if value is MISSING else value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return clean_text(orjson.dumps(value).decode())
    return clean_text(str(value))
