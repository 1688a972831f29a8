"""timed(): one object that is a context manager and a decorator, for sync and async code.

    with slog.timed("fetch_ticker", exchange="okx") as t:
        t.context["rows"] = 3          # fields learned along the way join the record
    @slog.timed("aggregate_oi")
    async def aggregate(symbol): ...

Logs `timed_operation` {operation, ..., response_time_ms, success}; an exception is logged
classified at ERROR and re-raised untouched.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_clock = time.perf_counter


class Timed:
    """Times a block or every call of a function, then logs one record."""

    __slots__ = ("_logger", "_start", "context", "operation")

    def __init__(self, logger: Any, operation: str, context: dict[str, Any]) -> None:
        self._logger = logger
        self.operation = operation
        self.context = context
        self._start = 0.0

    def __enter__(self) -> Timed:
        self._start = _clock()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._finish(exc_type, exc, tb)

    async def __aenter__(self) -> Timed:
        self._start = _clock()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._finish(exc_type, exc, tb)

    def _finish(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                tb: TracebackType | None) -> None:
        elapsed = (_clock() - self._start) * 1000.0
        context = {"operation": self.operation, **self.context, "response_time_ms": round(elapsed, 3),
                   "success": exc is None}
        if exc is None:
            self._logger.log(20, f"{self.operation} completed", context, event="timed_operation")
        else:
            context["exc_info"] = (exc_type, exc, tb)
            self._logger.log(40, f"{self.operation} failed", context, event="timed_operation")

    def __call__(self, fn: F) -> F:
        """Decorate fn so every call is timed under this operation name."""
        logger, operation, context = self._logger, self.operation, self.context
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with Timed(logger, operation, dict(context)):
                    return await fn(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with Timed(logger, operation, dict(context)):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]
