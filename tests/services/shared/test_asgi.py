"""The request-logging ASGI middleware, on a real FastAPI app through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from crypto_observability.shared.asgi import RequestLoggingMiddleware
from crypto_observability.shared.context import get_context
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs, validate_record


def make_app() -> FastAPI:
    app = FastAPI()
    inner = create_structured_logger("market-data", "endpoint")

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, object]:
        inner.info("looking up item", item_id=item_id)
        return {"item_id": item_id, "request_id": get_context().get("request_id")}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("exchange pool exploded")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                await asyncio.sleep(0.02)
                yield b"x" * 10
        return StreamingResponse(chunks())

    app.add_middleware(RequestLoggingMiddleware, logger=create_structured_logger("market-data", "http"))
    return app


def ours(logs: object) -> list[dict[str, object]]:
    """The app's records, without the test client's own httpx lines."""
    return [r for r in logs.records if r.get("logger") != "httpx"]  # type: ignore[attr-defined]


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://test")


async def test_one_line_per_request_with_route_template_and_request_id() -> None:
    """A request gives one http_request line with the template path, and everything inside carries its id."""
    with capture_logs("DEBUG") as logs:
        async with client(make_app()) as http:
            response = await http.get("/items/42", headers={"X-Request-ID": "req-abcdef12"})
    assert response.headers["x-request-id"] == "req-abcdef12" and response.json()["request_id"] == "req-abcdef12"
    inner, line = ours(logs)
    assert inner["request_id"] == line["request_id"] == "req-abcdef12"
    assert line["event"] == "http_request" and line["level"] == "INFO"
    ctx = line["context"]
    assert (ctx["method"], ctx["path"], ctx["status_code"]) == ("GET", "/items/{item_id}", 200)
    assert ctx["response_size"] == len(response.content) and ctx["response_time_ms"] >= 0
    for record in logs.records:
        validate_record(record)


async def test_invalid_request_ids_are_replaced_and_missing_ones_generated() -> None:
    """A header that is not an id is not trusted; a fresh id is returned instead."""
    async with client(make_app()) as http:
        bad = await http.get("/items/1", headers={"X-Request-ID": "<script>"})
        none = await http.get("/items/1")
    assert len(bad.headers["x-request-id"]) == 32 and bad.headers["x-request-id"] != "<script>"
    assert len(none.headers["x-request-id"]) == 32


async def test_unhandled_exception_gives_one_error_line_and_a_500_with_the_id() -> None:
    """The 500 carries X-Request-ID, and the log has one classified ERROR line with that id."""
    with capture_logs("DEBUG") as logs:
        async with client(make_app()) as http:
            response = await http.get("/boom", headers={"X-Request-ID": "req-boom-0001"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "req-boom-0001"
    errors = [r for r in ours(logs) if r["level"] == "ERROR"]
    assert len(errors) == 1
    (error,) = errors
    assert error["request_id"] == "req-boom-0001" and error["context"]["status_code"] == 500
    assert error["error"]["type"] == "RuntimeError" and "exploded" in error["exception"]["message"]


async def test_health_is_logged_at_debug_only() -> None:
    """Probes every few seconds must not flood INFO."""
    with capture_logs("INFO") as logs:
        async with client(make_app()) as http:
            await http.get("/health")
    assert ours(logs) == []


async def test_streaming_time_stops_at_the_last_chunk() -> None:
    """A streamed body is timed to its last chunk and its size counted exactly."""
    with capture_logs("INFO") as logs:
        async with client(make_app()) as http:
            response = await http.get("/stream")
    (line,) = ours(logs)
    assert len(response.content) == 30 and line["context"]["response_size"] == 30
    assert line["context"]["response_time_ms"] >= 55


async def test_concurrent_requests_keep_their_own_ids() -> None:
    """Ten requests at once never swap ids between their lines."""
    with capture_logs("INFO") as logs:
        async with client(make_app()) as http:
            await asyncio.gather(*(http.get(f"/items/{i}", headers={"X-Request-ID": f"req-{i:08d}"})
                                   for i in range(10)))
    inner = [r for r in ours(logs) if r.get("event") != "http_request"]
    assert sorted((r["context"]["item_id"], r["request_id"]) for r in inner) == [
        (i, f"req-{i:08d}") for i in range(10)]


@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_non_http_scopes_pass_through(scope_type: str) -> None:
    """Lifespan and websocket scopes reach the app untouched and log nothing."""
    seen = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(scope["type"])

    with capture_logs("DEBUG") as logs:
        middleware = RequestLoggingMiddleware(app, create_structured_logger("market-data", "http"))  # type: ignore[arg-type]
        await middleware({"type": scope_type}, None, None)  # type: ignore[arg-type]
    assert seen == [scope_type] and logs.records == []


async def test_trace_ids_from_traceparent_or_the_current_opentelemetry_span() -> None:
    """A W3C traceparent header gives the ids; without one, OpenTelemetry's current span does."""
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with capture_logs("INFO") as logs:
        async with client(make_app()) as http:
            await http.get("/items/1", headers={"traceparent": header})
            with tracer.start_as_current_span("outer") as span:
                await http.get("/items/2")
    first, second = (r for r in ours(logs) if r.get("event") == "http_request")
    assert (first["trace_id"], first["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    ids = span.get_span_context()
    assert (second["trace_id"], second["span_id"]) == (f"{ids.trace_id:032x}", f"{ids.span_id:016x}")
