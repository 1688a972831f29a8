"""The bot's view of market-data's health: one ``health_check`` per interval, at INFO (WARNING when down).

A GET of market-data's ``/health`` every ``INTERVAL_S`` seconds: one cheap request, so the analyzer's
connectivity table and the monitor's view of the dependency fill at the default level.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from .events import BotEvents

INTERVAL_S = 30.0
TIMEOUT_S = 5.0


async def check_market_data(client: httpx.AsyncClient, base_url: str, events: BotEvents) -> bool:
    """Ask market-data's /health once and log the answer; return whether it is healthy."""
    started = time.perf_counter()
    status: int | None = None
    try:
        status = (await client.get(f"{base_url.rstrip('/')}/health", timeout=TIMEOUT_S)).status_code
        healthy, error = status == 200, None
    except httpx.HTTPError as exc:
        healthy, error = False, type(exc).__name__
    events.health_check("market-data", healthy, round((time.perf_counter() - started) * 1000.0, 3), status, error)
    return healthy


async def watch_market_data(base_url: str, events: BotEvents, stop: asyncio.Event,
                            interval_s: float = INTERVAL_S) -> None:
    """Check market-data every ``interval_s`` until ``stop`` is set."""
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
                return
            except TimeoutError:
                await check_market_data(client, base_url, events)
