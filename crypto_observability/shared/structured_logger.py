"""StructuredLogger: the fast road, keyword arguments in, one record out.

Any keyword is a field, `message` included (the message itself is positional).

    slog = create_structured_logger("market-data", "unified_oi_aggregator")
    slog.info("OI aggregation completed", symbol="BTC-USDT", exchanges_count=6)

A call below the level costs one comparison; a call above it captures the time, the
keywords and the bound context and puts them on the writer's queue. No LogRecord is made:
the entry is a plain tuple in Entry's order, with the keywords beside it (see LogWriter.submit).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from ._events import EventMethods
from .context import _CONTEXT
from .errors import ErrorInfo
from .logging_config import ensure_pipeline
from .settings import LogSettings

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
_now = time.time


class StructuredLogger(EventMethods):
    """Logs events for one (service, module); bind() returns a logger with more fixed context."""

    __slots__ = ("_bound", "_level", "_module", "_pipeline", "_service", "_submit")

    def __init__(self, service: str, module: str, pipeline: Any, bound: dict[str, Any] | None = None) -> None:
        self._service = service
        self._module = module
        self._pipeline = pipeline
        self._submit = pipeline.submit
        self._level: int = pipeline.settings.level
        self._bound = bound or {}

    @property
    def service(self) -> str:
        """The service every record of this logger names."""
        return self._service

    @property
    def module(self) -> str:
        """The module every record of this logger names."""
        return self._module

    def bind(self, **context: Any) -> StructuredLogger:
        """Return a logger whose records all carry these context fields too."""
        return StructuredLogger(self._service, self._module, self._pipeline, {**self._bound, **context})

    def is_enabled_for(self, level: int) -> bool:
        """True when a record at this level would be written."""
        return level >= self._level

    def debug(self, message: str, /, **context: Any) -> None:
        """Log at DEBUG; costs one comparison when DEBUG is off."""
        if self._level <= DEBUG:
            if self._bound or "exc_info" in context:
                self.log(DEBUG, message, context)
                return
            try:  # log()'s plain case, inlined: this is the hot path
                self._submit((_now(), DEBUG, self._service, self._module, message, None,
                              _CONTEXT.get() or None, None, None, None, None), context)
            except Exception as exc:
                self._pipeline.report(f"dropped: {type(exc).__name__}", f"a {self._module} record was dropped: {exc!r}")

    def info(self, message: str, /, **context: Any) -> None:
        """Log at INFO with keyword arguments as context."""
        if self._level <= INFO:
            if self._bound or "exc_info" in context:
                self.log(INFO, message, context)
                return
            try:  # log()'s plain case, inlined: this is the hot path
                self._submit((_now(), INFO, self._service, self._module, message, None,
                              _CONTEXT.get() or None, None, None, None, None), context)
            except Exception as exc:
                self._pipeline.report(f"dropped: {type(exc).__name__}", f"a {self._module} record was dropped: {exc!r}")

    def warning(self, message: str, /, **context: Any) -> None:
        """Log at WARNING with keyword arguments as context."""
        if self._level <= WARNING:
            if self._bound or "exc_info" in context:
                self.log(WARNING, message, context)
                return
            try:  # log()'s plain case, inlined: this is the hot path
                self._submit((_now(), WARNING, self._service, self._module, message, None,
                              _CONTEXT.get() or None, None, None, None, None), context)
            except Exception as exc:
                self._pipeline.report(f"dropped: {type(exc).__name__}", f"a {self._module} record was dropped: {exc!r}")

    def error(self, message: str, /, *, category: str | None = None, severity: str | None = None,
              **context: Any) -> None:
        """Log at ERROR, classified: category and severity come from exc_info's type unless given."""
        if self._level <= ERROR:
            self.log(ERROR, message, context, error=(category, severity))

    def critical(self, message: str, /, *, category: str | None = None, severity: str | None = None,
                 **context: Any) -> None:
        """Log at CRITICAL, classified like error()."""
        if self._level <= CRITICAL:
            self.log(CRITICAL, message, context, error=(category, severity or "critical"))

    def exception(self, message: str, /, *, category: str | None = None, severity: str | None = None,
                  **context: Any) -> None:
        """Log at ERROR with the exception being handled, classified."""
        context.setdefault("exc_info", True)
        if self._level <= ERROR:
            self.log(ERROR, message, context, error=(category, severity))

    def log(self, level: int, message: str, context: dict[str, Any], *, event: str | None = None,
            error: ErrorInfo | tuple[str | None, str | None] | None = None) -> None:
        """Queue one record if its level is enabled; never raises into the caller."""
        if level < self._level:  # every road honours the level, typed events and BotLogger's too
            return
        try:
            exc_info = None
            if "exc_info" in context:
                exc_info = _exc_info(context.pop("exc_info"))
            if self._bound:
                context = {**self._bound, **context}
            self._submit((_now(), level, self._service, self._module, message, None, _CONTEXT.get() or None,
                          exc_info, event, None, error), context)
        except Exception as exc:
            self._pipeline.report(f"dropped: {type(exc).__name__}", f"a {self._module} record was dropped: {exc!r}")


    def _mask_user(self, identity: object) -> str:
        return str(self._pipeline.redactor.mask_user(identity))

    def _is_secret_key(self, key: str) -> bool:
        return bool(self._pipeline.redactor.is_secret_key(key))


def _exc_info(value: Any) -> tuple[type[BaseException], BaseException, Any] | None:
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return value
    if value:
        info = sys.exc_info()
        return info if info[0] is not None else None
    return None


def create_structured_logger(service: str, module: str, *, settings: LogSettings | None = None) -> StructuredLogger:
    """Set up logging for the service (once) and return a StructuredLogger for the module."""
    if not service or not module:
        raise ValueError("create_structured_logger needs a service name and a module name")
    pipeline = ensure_pipeline(settings)
    if pipeline.default_service is None:
        pipeline.default_service = service
    return StructuredLogger(service, module, pipeline)
