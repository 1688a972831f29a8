"""stdout as logging finds it, and a readable, coloured one-line rendering for a person at a terminal.

stdout may be a real file, a text stream without `.buffer` (Jupyter, redirect_stdout, IDEs), an object
without isatty(), closed, or None (pythonw, some daemons): each gives a usable output or none, never an error.
"""

from __future__ import annotations

from typing import Any

_COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m", "ERROR": "\x1b[31m",
            "CRITICAL": "\x1b[1;41m"}
_RESET, _DIM, _BOLD = "\x1b[0m", "\x1b[2m", "\x1b[1m"


def render_console(record: dict[str, Any], colour: bool = True) -> bytes:
    """'HH:MM:SS.mmm LEVEL service module  message  key=value ...' plus the stack trace."""
    level = record["level"]
    paint = (lambda code, text: f"{code}{text}{_RESET}") if colour else (lambda code, text: text)
    fields = dict(record.get("context") or {})
    for key in ("event", "request_id", "user"):
        if key in record:
            fields[key] = record[key]
    if "error" in record:
        fields["error"] = f"{record['error']['category']}/{record['error']['severity']}"
    tail = " ".join(f"{paint(_DIM, k + '=')}{_short(v)}" for k, v in fields.items())
    line = (f"{paint(_DIM, record['timestamp'][11:23])} {paint(_COLOURS.get(level, ''), f'{level:<8}')} "
            f"{record['service']} {paint(_DIM, record['module'])}  {paint(_BOLD, record['message'])}  {tail}")
    exception = record.get("exception")
    if exception:
        line += "\n" + "\n".join("    " + part for part in exception.get("stacktrace", "").rstrip().splitlines())
    return (line.rstrip() + "\n").encode("utf-8", "replace")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class TextOutput:
    """A text stream (no `.buffer`) seen as a binary output: lines are decoded and written as text."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: bytes) -> None:
        """Write the lines as text."""
        self._stream.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        """Flush the stream when it can be flushed."""
        flush = getattr(self._stream, "flush", None)
        if callable(flush):
            flush()


def console_output(stream: Any) -> Any | None:
    """A binary output for this stdout: its `.buffer`, the text stream itself wrapped, or None when unusable."""
    try:
        if stream is None or getattr(stream, "closed", False):
            return None
        buffer = getattr(stream, "buffer", None)
        if buffer is not None and callable(getattr(buffer, "write", None)):
            return buffer
        return TextOutput(stream) if callable(getattr(stream, "write", None)) else None
    except Exception:
        return None


def is_terminal(stream: Any) -> bool:
    """True only for a stream that says it is a terminal; never raises (no isatty, closed, None)."""
    try:
        return bool(stream.isatty())
    except Exception:
        return False
