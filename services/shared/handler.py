"""The stdlib road: a logging.Handler that turns any LogRecord into our record.

Installed on the root logger, so uvicorn, httpx, telegram, ccxt, aiohttp and asyncio
records come out exactly like ours, through the same redaction.
"""

from __future__ import annotations

import logging
from typing import Any

from .context import get_context

# Attributes every LogRecord has; anything else came in through extra= and joins context.
_PLAIN = logging.LogRecord("", 0, "", 0, "", None, None).__dict__
_BASE_LEN = len(_PLAIN)  # a record this size has no extra attributes: skip the set difference
_STANDARD = frozenset(_PLAIN) | {"message", "asctime", "context", "event", "color_message", "taskName"}


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
            if record.stack_info:
                context["stack_info"] = record.stack_info
            exc_info = record.exc_info if record.exc_info and record.exc_info[0] is not None else None
            event = attrs.get("event")
            self._pipeline.submit((record.created, record.levelno, service, module, record.getMessage(), None,
                                   get_context() or None, exc_info, event if isinstance(event, str) else None,
                                   logger, None), context)
        except Exception as exc:
            self._pipeline.report_problem("handler", f"a {record.name} record was dropped: {exc!r}")

    def flush(self) -> None:
        """Wait until everything logged so far is written (logging.shutdown() calls this)."""
        self._pipeline.flush()

    def close(self) -> None:
        """Flush only: dictConfig closes every handler it finds, and the pipeline must outlive that."""
        self._pipeline.flush()
        super().close()
