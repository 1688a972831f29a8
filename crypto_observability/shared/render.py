"""Turn a queued log entry into the record DESIGN.md fixes, and the record into one JSON line.

Runs on the writer thread, not the caller's: the caller only captured the time, the level,
the message, its context and the bound contextvars. Every step here is defensive, because
logging must never raise into the service that called it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import orjson

from .context import RESERVED_KEYS
from .errors import SEVERITIES, ErrorInfo, error_info, fingerprint
from .metadata import Metadata

LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
LINE_OPTIONS = _OPTIONS  # for a caller trying orjson.dumps itself before dumps(): same bytes when it succeeds
MAX_STACK_CHARS = 16384


class Entry(NamedTuple):
    """What the caller hands to the writer thread: cheap to build, rendered later."""

    created: float
    level: int
    service: str
    module: str
    message: str
    context: Mapping[str, Any] | None
    bound: Mapping[str, Any]
    exc_info: tuple[type[BaseException], BaseException, Any] | None = None
    event: str | None = None
    logger: str | None = None
    error: ErrorInfo | tuple[str | None, str | None] | None = None  # full info, or (category, severity) overrides


_second_cache: list[Any] = [-1, ""]
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1001))  # 1000 only if a float rounds up; as f"{1000:03d}"


def format_timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds and Z; the seconds part is cached per second."""
    seconds = int(created)
    if seconds != _second_cache[0]:
        stamp = _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second_cache[0], _second_cache[1] = seconds, stamp
    millis = int((created - seconds) * 1000)
    prefix: str = _second_cache[1]
    return prefix + (_MILLIS[millis] if 0 <= millis <= 1000 else f".{millis:03d}Z")


class RecordBuilder:
    """Builds records in the fixed key order from entries, with redaction applied."""

    def __init__(self, metadata: Metadata, redactor: Any, performance: Callable[[], dict[str, float] | None]) -> None:
        self._meta = metadata
        self._redactor = redactor
        self._performance = performance
        self._known_text = getattr(redactor, "known_text", None) or (lambda text: None)

    def build(self, entry: Entry, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Assemble one record (context, when given, stands for the entry's); optional keys only with a value."""
        created, level, service, module, message, own_context, bound, exc_info, event, logger, error = entry
        if context is None:
            context = own_context
        redactor = self._redactor
        if bound:
            merged = {k: v for k, v in bound.items() if k not in RESERVED_KEYS}
            if context:
                merged.update(context)
            context = merged
        meta, known_text = self._meta, self._known_text
        record: dict[str, Any] = {
            "timestamp": format_timestamp(created),
            "service": service,
            "module": module,
            "level": LEVEL_NAMES.get(level) or _level_name(level),
            "message": (message.__class__ is str and known_text(message)) or redactor.redact_text(message),
            "context": redactor.redact_context(context) if context else {},
            "docker_container": meta.docker_container,
            "git_commit": meta.git_commit,
            "environment": meta.environment,
        }
        performance = self._performance()
        if performance is not None:
            record["performance"] = performance
        if event:
            record["event"] = event
        if logger:
            record["logger"] = logger
        if bound:
            for key in RESERVED_KEYS:
                value = bound.get(key)
                if value is not None:
                    record[key] = value if key != "user" else _masked_user(value, redactor)
        if exc_info is not None or error is not None:
            self._add_error(record, entry if entry.__class__ is Entry else Entry._make(entry))
        return record

    def _add_error(self, record: dict[str, Any], entry: Entry) -> None:
        exc = entry.exc_info[1] if entry.exc_info else None
        info = _error_block(entry, exc)
        if info is not None:
            record["error"] = info.as_dict()
        if exc is not None and entry.exc_info is not None:
            record["exception"] = exception_block(entry.exc_info, self._redactor)


def _error_block(entry: Entry, exc: BaseException | None) -> ErrorInfo | None:
    """Classify: the exception's type decides unless the caller named a category or severity."""
    error = entry.error
    if isinstance(error, ErrorInfo):
        return error
    category, severity = error if error is not None else (None, None)
    if category is not None and not isinstance(category, str):
        category = str(category)
    if severity not in SEVERITIES:
        severity = None
    if exc is not None:
        return error_info(exc, category, severity)
    if error is None:
        return None
    name = entry.event or "LoggedError"
    return ErrorInfo(name, category or "unclassified", severity or ("critical" if entry.level >= 50 else "medium"),
                     fingerprint(name, entry.message, entry.module))


def _masked_user(value: Any, redactor: Any) -> str:
    return value if isinstance(value, str) and value.startswith("u_") else str(redactor.mask_user(value))


def _level_name(level: int) -> str:
    for threshold in (50, 40, 30, 20):
        if level >= threshold:
            return LEVEL_NAMES[threshold]
    return "DEBUG"


def exception_block(exc_info: tuple[type[BaseException], BaseException, Any], redactor: Any) -> dict[str, str]:
    """The record's `exception` block: type, redacted message, redacted stack trace."""
    exc_type, exc, tb = exc_info
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {exc_type.__name__}>"
    try:
        stack = "".join(traceback.format_exception(exc_type, exc, tb))
    except Exception:
        stack = f"{exc_type.__name__}: <traceback unavailable>"
    if len(stack) > MAX_STACK_CHARS:  # keep the innermost frames, which say what broke
        stack = "…[truncated]\n" + stack[-MAX_STACK_CHARS:]
    return {"type": exc_type.__name__, "message": redactor.redact_text(message),
            "stacktrace": redactor.redact_text(stack)}


def _fallback(value: Any) -> Any:
    """Make anything orjson refuses printable: Decimal, sets, bytes, numpy scalars, odd objects."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)[:1024].decode("utf-8", "replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return item()
        except Exception:
            pass
    try:
        return str(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


_INT_RANGE = range(-(2**63), 2**64)  # what orjson writes as a JSON number


def _mend(value: Any) -> Any:
    """A copy orjson can write: integers beyond 64 bits as decimal strings, lone surrogates as U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in _INT_RANGE else str(value)
    if isinstance(value, dict):
        return {_mend(key): _mend(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mend(item) for item in value]
    return value


def dumps(record: dict[str, Any]) -> bytes:
    """One JSON line; never raises: mends what orjson refuses, then degrades the context before giving up."""
    try:
        return orjson.dumps(record, default=_fallback, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:  # a wei amount above 2**64, a lone surrogate: mend that value, keep every other field
        return orjson.dumps(_mend(record), default=_fallback, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        safe = dict(record)
        safe["context"] = {"_unserializable": _fallback(type(record.get("context")).__name__)}
        try:
            return orjson.dumps(safe, default=_fallback, option=_OPTIONS)
        except Exception:
            return orjson.dumps({"timestamp": record.get("timestamp"), "service": record.get("service"),
                                 "module": record.get("module"), "level": record.get("level"),
                                 "message": "[record could not be rendered]", "context": {}},
                                option=_OPTIONS)
