"""The stdlib road: a logging.Handler that turns any LogRecord into our record.

Installed on the root logger, so uvicorn, httpx, telegram, ccxt, aiohttp and asyncio
records come out exactly like ours, through the same redaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .context import get_context

# Attributes every LogRecord has; anything else came in through extra= and joins context.
_PLAIN = logging.LogRecord("", 0, "", 0, "", None, None).__dict__
_BASE_LEN = len(_PLAIN)  # a record this size has no extra attributes: skip the set difference
_STANDARD = frozenset(_PLAIN) | {"message", "asctime", "context", "event", "color_message", "taskName"}
_RESERVED = frozenset(_PLAIN) | {"message", "asctime"}  # extra= names the stdlib refuses with KeyError


class ServiceLogger(logging.Logger):
    """A stdlib Logger that takes any extra= name: one the LogRecord reserves joins the record's context."""

    def makeRecord(self, name: str, level: int, fn: str, lno: int, msg: object, args: Any, exc_info: Any,
                   func: str | None = None, extra: Mapping[str, object] | None = None,
                   sinfo: str | None = None) -> logging.LogRecord:
        """Build the record; extra keys that would clash with its attributes move into `context`."""
        if extra and not _RESERVED.isdisjoint(extra):
            kept = {key: value for key, value in extra.items() if key not in _RESERVED}
            moved = {key: value for key, value in extra.items() if key in _RESERVED}
            own = kept.get("context")
            kept["context"] = {**own, **moved} if isinstance(own, dict) else (
                moved if own is None else {"context": own, **moved})
            extra = kept
        return super().makeRecord(name, level, fn, lno, msg, args, exc_info, func, extra, sinfo)


def accept_any_extra_name(logger: logging.Logger | None = None) -> None:
    """Make loggers created from now on, and this one, ServiceLoggers (same state, one method more lenient)."""
    if logging.getLoggerClass() is logging.Logger:
        logging.setLoggerClass(ServiceLogger)
    if logger is not None and type(logger) is logging.Logger:
        logger.__class__ = ServiceLogger


def _message(record: logging.LogRecord) -> tuple[str, dict[str, Any] | None]:
    """The message, and None; or, when its %-arguments do not fit, the raw message and their reprs as fields."""
    if not record.args:
        return (record.msg if record.msg.__class__ is str else _safe_str(record.msg)), None
    try:
        return record.getMessage(), None
    except Exception as exc:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        return _safe_str(record.msg), {"log_args": [_safe_repr(arg) for arg in args],
                                       "log_args_error": f"{type(exc).__name__}: {_safe_str(exc)}"}


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return _safe_repr(value)


class ServiceLogHandler(logging.Handler):
    """Hands records to the writer thread; never raises into the logging caller."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__(logging.NOTSET)
        self._pipeline = pipeline

    def emit(self, record: logging.LogRecord) -> None:
        """Capture what must be read on the caller's thread, then enqueue."""
        try:
            attrs = record.__dict__
            service, module, logger = self._pipeline.route(record.name, record.module)
            context = attrs.get("context")
            extra = attrs.keys() - _STANDARD if len(attrs) > _BASE_LEN + (context is not None) else ()
            if extra or not isinstance(context, dict):
                context = dict(context) if isinstance(context, dict) else ({} if context is None else
                                                                           {"context": context})
                context.update((key, attrs[key]) for key in extra)
            else:
                context = dict(context)  # the caller's own dict: the record keeps it as it is now
            message, unfit = _message(record)
            if unfit is not None:
                self._pipeline.report("arguments that do not fit the message",
                                      f"a {record.name} record was logged raw: {unfit['log_args_error']}")
            if unfit is not None or record.stack_info:
                context = {**context, **(unfit or {})}
                if record.stack_info:
                    context["stack_info"] = record.stack_info
            exc_info = record.exc_info if record.exc_info and record.exc_info[0] is not None else None
            event = attrs.get("event")
            self._pipeline.submit((record.created, record.levelno, service, module, message, None,
                                   get_context() or None, exc_info, event if isinstance(event, str) else None,
                                   logger, None), context)
        except Exception as exc:
            self._pipeline.report(f"dropped: {type(exc).__name__}", f"a {record.name} record was dropped: {exc!r}")

    def flush(self) -> None:
        """Wait until everything logged so far is written (logging.shutdown() calls this)."""
        self._pipeline.flush()

    def close(self) -> None:
        """Flush only: dictConfig closes every handler it finds, and the pipeline must outlive that."""
        self._pipeline.flush()
        super().close()
