"""Per-request context in contextvars: bound once, carried onto every record.

One ContextVar holds an immutable-by-convention dict that is replaced, never mutated, so
asyncio tasks that copied the context never see each other's changes. The reserved keys
request_id, trace_id, span_id and user become top-level record keys; the rest join context.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

RESERVED_KEYS = ("request_id", "trace_id", "span_id", "user")
_EMPTY: dict[str, Any] = {}
_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context", default=_EMPTY)
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")

# Set by logging_config once a Redactor exists, so user ids are masked at bind time.
_user_masker: Callable[[object], str] | None = None


def set_user_masker(masker: Callable[[object], str] | None) -> None:
    """Install the function that turns a raw user identity into its keyed hash."""
    global _user_masker
    _user_masker = masker


def _prepare(values: dict[str, Any]) -> dict[str, Any]:
    user = values.get("user")
    if user is not None and _user_masker is not None and not (isinstance(user, str) and user.startswith("u_")):
        values["user"] = _user_masker(user)
    return values


def get_context() -> dict[str, Any]:
    """Return the current bound context (do not mutate it)."""
    return _CONTEXT.get()


def bind_context(**values: Any) -> None:
    """Add keys to the current context; a None value removes its key."""
    merged = {**_CONTEXT.get(), **_prepare(values)}
    _CONTEXT.set({k: v for k, v in merged.items() if v is not None})


def unbind_context(*keys: str) -> None:
    """Remove keys from the current context."""
    current = _CONTEXT.get()
    _CONTEXT.set({k: v for k, v in current.items() if k not in keys})


def clear_context() -> None:
    """Forget everything bound; call at the start of every request and every bot update."""
    _CONTEXT.set(_EMPTY)


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """Bind keys for the duration of a block, then restore exactly what was there before."""
    token = _CONTEXT.set({**_CONTEXT.get(), **_prepare(values)})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def parse_traceparent(header: str | None) -> tuple[str, str] | None:
    """Extract (trace_id, span_id) from a W3C traceparent header, or None if malformed."""
    if not header:
        return None
    match = _TRACEPARENT.match(header.strip().lower())
    if not match or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return match.group(1), match.group(2)


_otel_trace: list[Any] = []  # [module] once looked up; [None] when OpenTelemetry is not installed


def otel_span_ids() -> tuple[str, str] | None:
    """Return OpenTelemetry's current (trace_id, span_id) when that package is installed."""
    if not _otel_trace:
        try:
            import opentelemetry.trace  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            _otel_trace.append(None)
        else:
            _otel_trace.append(opentelemetry.trace)
    otel = _otel_trace[0]
    if otel is None:
        return None
    ctx = otel.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


def with_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap fn so that, wherever it runs (a thread, an executor), it sees the caller's context."""
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.copy().run(fn, *args, **kwargs)

    return run


def submit_with_context(executor: Executor, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
    """executor.submit() that carries the current log context into the worker thread."""
    return executor.submit(with_context(fn), *args, **kwargs)
