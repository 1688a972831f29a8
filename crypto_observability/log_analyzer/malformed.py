"""Find, by file and line number, the lines that are not our records; never fatal.

DuckDB tells us cheaply *how many* lines of a file failed; only then is the file walked in Python
to say *which* ones, so clean files (the usual case) cost nothing extra.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import orjson

from crypto_observability.log_analyzer.schema import LEVELS

MAX_LISTED = 200
_REQUIRED = ("timestamp", "service", "level", "message")


@dataclass(frozen=True)
class MalformedLine:
    """One rejected line: where it is, why, and its start (never the whole line)."""

    file: str
    line: int
    reason: str
    excerpt: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def excerpt(raw: bytes) -> str:
    """Return the start of a line, printable, for a report (never the whole line)."""
    text = raw[:80].decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)


def classify(raw: bytes, last: bool = False) -> str | None:
    """Return why ``raw`` (one line, newline stripped) is not a record, or None when it is one."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        if last:
            return "truncated last line"
        return "not JSON" if raw.isascii() or _utf8(raw) else "binary or non-UTF-8 data"
    if isinstance(obj, dict) and isinstance(obj.get("log"), str) and "timestamp" not in obj:
        return classify(obj["log"].rstrip("\n").encode(), last)
    if not isinstance(obj, dict):
        return "JSON but not an object"
    if isinstance(obj.get("timestamp"), int | float) and not isinstance(obj["timestamp"], bool):
        return f"epoch-number timestamp {obj['timestamp']!r} (expected RFC 3339 text)"
    missing = [key for key in _REQUIRED if not isinstance(obj.get(key), str)]
    if missing:
        return "foreign JSON: missing " + ", ".join(missing)
    if not obj["service"]:
        return "empty service"
    if obj["level"] not in LEVELS:
        return f"unknown level {obj['level']!r}"
    if not is_rfc3339(obj["timestamp"]):
        return f"bad timestamp {obj['timestamp'][:40]!r}"
    return None


def is_rfc3339(text: str) -> bool:
    """Say whether ``text`` is a timestamp the engine accepts (RFC 3339, any fraction, Z, offset or none)."""
    try:
        datetime.fromisoformat(text.upper())
    except ValueError:
        return False
    return True


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _docker_log(raw: bytes) -> str | None:
    """Return the ``log`` text of a Docker json-file line, or None when the line is not one."""
    if not raw.startswith(b'{"log":'):
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    log = obj.get("log") if isinstance(obj, dict) and "timestamp" not in obj else None
    return log if isinstance(log, str) else None


def joined_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """Yield (line number, line, is an unterminated last line), Docker's split lines joined into one.

    Docker's json-file driver cuts a record longer than 16 KB into chunks whose ``log`` lacks the
    newline until the last; the chunks become one ``{"log": ...}`` line numbered as the first.
    """
    pending: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        raw, last = line.rstrip(b"\r\n"), not line.endswith(b"\n")
        log = _docker_log(raw) if pending or raw.startswith(b'{"log":') else None
        if log is not None and not log.endswith("\n"):
            start = start if pending else number
            pending.append(log)
            continue
        if pending:
            if log is not None:
                yield start, orjson.dumps({"log": "".join(pending) + log}), last
                pending = []
                continue
            yield start, orjson.dumps({"log": "".join(pending)}), False
            pending = []
        yield number, raw, last
    if pending:
        yield start, orjson.dumps({"log": "".join(pending)}), True


def _lines(path: Path, compressed: bool) -> Iterator[tuple[int, bytes, bool]]:
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:
        yield from joined_lines(handle)


def locate(path: Path, compressed: bool, limit: int = MAX_LISTED) -> tuple[int, list[MalformedLine]]:
    """Walk one file and return (number of bad lines, the first ``limit`` of them)."""
    count, listed = 0, list[MalformedLine]()
    try:
        for number, raw, last in _lines(path, compressed):
            if not raw.strip():
                continue
            reason = classify(raw, last)
            if reason is None:
                continue
            count += 1
            if len(listed) < limit:
                listed.append(MalformedLine(str(path), number, reason, excerpt(raw)))
    except (OSError, EOFError) as exc:  # a truncated gzip stream is reported, not raised
        count += 1
        listed.append(MalformedLine(str(path), 0, f"unreadable: {exc}", ""))
    return count, listed
