"""Pure ASGI request logging (not BaseHTTPMiddleware, which breaks contextvars).

One `http_request` line per request: method, route template, status, response_time_ms
stopped at the last body chunk, response size and client. X-Request-ID is accepted when
valid, generated otherwise, bound in context for everything logged during the request and
returned on every response, 500s included. An unhandled exception gives one classified
ERROR line with the request id, a 500, and is re-raised.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from .context import _CONTEXT, otel_span_ids, parse_traceparent

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
LOGGED_MARK = "_logged_by_request_middleware"


def request_id_from(headers: list[tuple[bytes, bytes]], header: bytes) -> str:
    """The caller's request id when it looks like one, else a fresh uuid4 hex."""
    for name, value in headers:
        if name == header:
            candidate = value.decode("latin-1").strip()
            if _VALID_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestLoggingMiddleware:
    """Wraps an ASGI app; logger is a StructuredLogger (its http_request() writes the line)."""

    def __init__(self, app: ASGIApp, logger: Any, *, quiet_paths: tuple[str, ...] = ("/health", "/ready"),
                 header: str = "x-request-id", clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.logger = logger
        self.quiet_paths = frozenset(quiet_paths)
        self.header = header.lower().encode("latin-1")
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        request_id = request_id_from(headers, self.header)
        bound: dict[str, Any] = {"request_id": request_id}
        trace = (parse_traceparent(next((v.decode("latin-1") for k, v in headers if k == b"traceparent"), None))
                 or otel_span_ids())
        if trace:
            bound["trace_id"], bound["span_id"] = trace
        token = _CONTEXT.set(bound)  # a fresh context per request: nothing leaks from the last one
        state = {"status": 0, "size": 0, "started": False, "logged": False}
        start = self.clock()
        header_pair = (self.header, request_id.encode("latin-1"))

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                message["headers"] = [*message.get("headers", []), header_pair]
            elif message["type"] == "http.response.body":
                state["size"] += len(message.get("body", b""))
                if not message.get("more_body", False) and not state["logged"]:
                    await send(message)
                    state["logged"] = True
                    self._log(scope, state, start, None)
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        except Exception as exc:
            if not state["logged"]:
                state["status"], state["logged"] = 500, True
                self._log(scope, state, start, exc)
                exc.__dict__[LOGGED_MARK] = True
            if not state["started"]:
                await _send_500(send, header_pair)
            raise
        finally:
            _CONTEXT.reset(token)

    def _log(self, scope: Scope, state: dict[str, Any], start: float, exc: BaseException | None) -> None:
        elapsed = round((self.clock() - start) * 1000.0, 3)
        route = scope.get("route")
        path = getattr(route, "path", None) or ("<unmatched>" if state["status"] == 404 else scope.get("path", ""))
        client = scope.get("client")
        context: dict[str, Any] = {"response_size": state["size"], "client": client[0] if client else None}
        level = 10 if scope.get("path") in self.quiet_paths and exc is None and state["status"] < 500 else None
        if exc is not None:
            context["exc_info"] = exc
            level = 40
        self.logger.http_request(scope.get("method", "GET"), path, state["status"], elapsed, level=level, **context)


async def _send_500(send: Send, header_pair: tuple[bytes, bytes]) -> None:
    body = orjson.dumps({"detail": "Internal Server Error", "request_id": header_pair[1].decode("latin-1")})
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            header_pair]})
    await send({"type": "http.response.body", "body": body})
