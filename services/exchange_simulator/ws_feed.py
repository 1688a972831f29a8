"""The WebSocket push loop every simulated venue shares: subscriptions, periodic pushes, message dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from .venue_base import Ctx

log = logging.getLogger(__name__)


class Feed:
    """One client connection: its subscriptions and the loop that pushes their events every `interval`."""

    def __init__(self, ws: web.WebSocketResponse, ctx_factory: Callable[[], Ctx], interval: float) -> None:
        self.ws = ws
        self.ctx_factory = ctx_factory
        self.interval = interval
        self.streams: list[str] = []

    def event(self, stream: str, ctx: Ctx) -> Any:
        """Return the message for one subscribed stream, or None when it is not simulated."""
        raise NotImplementedError

    async def on_message(self, text: str) -> None:
        """Handle one text frame from the client."""
        raise NotImplementedError

    async def send(self, payload: Any) -> None:
        """Send one JSON text frame unless the socket has closed."""
        if not self.ws.closed:
            await self.ws.send_str(orjson.dumps(payload).decode())

    async def push(self, streams: list[str]) -> None:
        """Send the current event of each stream."""
        ctx = self.ctx_factory()
        for stream in streams:
            payload = self.event(stream, ctx)
            if payload is not None:
                await self.send(payload)

    async def pump(self) -> None:
        """Push every subscription each `interval` seconds until the socket closes."""
        while not self.ws.closed:
            await asyncio.sleep(self.interval)
            await self.push(list(self.streams))


async def serve(
    request: web.Request, feed_class: type[Feed], ctx_factory: Callable[[], Ctx], interval: float
) -> web.WebSocketResponse:
    """Run one market-feed connection to its end."""
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    feed = feed_class(ws, ctx_factory, interval)
    pump = asyncio.create_task(feed.pump())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await feed.on_message(msg.data)
            elif msg.type == WSMsgType.ERROR:
                log.debug("websocket error: %s", ws.exception())
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
    return ws
