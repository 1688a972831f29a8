"""Fixtures: the Telegram simulator, a market-data stand-in on 127.0.0.1, and the real bot running against both."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from crypto_observability.shared.testing import CapturedLogs, capture_logs
from services.telegram_bot.runner import run_bot
from services.telegram_bot.settings import BotSettings
from services.telegram_simulator import SimulatedUser, TelegramSimulator

ALICE = SimulatedUser(id=100001, first_name="Alice", username="alice")
BOB = SimulatedUser(id=100002, first_name="Bob", username="bob")
MALLORY = SimulatedUser(id=666001, first_name="Mallory", username="mallory", role="stranger")

PRICE_BTC = {
    "symbol": "BTC-USDT", "prices": {"binance": 43250.5, "okx": 43251.25}, "median_price": 43250.875,
    "change_24h_pct": {"binance": 1.2, "okx": 1.25}, "exchanges_answered": ["binance", "okx"],
    "exchanges_failed": {"bybit": "rate_limit"}, "partial": True,
}
OI_BTC = {"symbol": "BTC-USDT", "total_oi_usd": 12_345_678_901.0,
          "per_exchange_usd": {"binance": 8_000_000_000.0, "okx": 4_345_678_901.0},
          "exchanges_answered": ["binance", "okx"], "exchanges_failed": {}, "partial": False}


class MarketDataStandIn:
    """Answers market-data's routes from a table and records the X-Request-ID of every request."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {
            ("price", "BTC-USDT"): (200, PRICE_BTC), ("oi", "BTC-USDT"): (200, OI_BTC)}
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def answer(self, request: web.Request) -> web.Response:
        """Look up (endpoint, symbol); unknown symbols get market-data's 404."""
        endpoint, symbol = request.match_info["endpoint"], request.match_info["symbol"]
        self.received.append({"endpoint": endpoint, "symbol": symbol, "query": dict(request.query),
                              "request_id": request.headers.get("X-Request-ID")})
        status, body = self.answers.get((endpoint, symbol), (404, {"detail": f"unknown symbol {symbol}"}))
        return web.json_response(body, status=status)

    async def __aenter__(self) -> MarketDataStandIn:
        app = web.Application()
        app.router.add_get("/{endpoint}/{symbol}", self.answer)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def alice() -> SimulatedUser:
    """A user on the allow-list."""
    return ALICE


@pytest.fixture
def bob() -> SimulatedUser:
    """A second user on the allow-list."""
    return BOB


@pytest.fixture
def mallory() -> SimulatedUser:
    """A stranger, not on the allow-list."""
    return MALLORY


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    return closed_port_url()


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A loopback port free right now (the webhook URL must name its port before the server binds)."""
    return free_port()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """Every record written during the test, in memory."""
    with capture_logs("DEBUG") as captured:
        yield captured


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    """The Telegram simulator on a free port."""
    async with TelegramSimulator(webhook_retry_delays=(0.02, 0.05, 0.1)) as simulator:
        yield simulator


@pytest.fixture
async def market() -> AsyncIterator[MarketDataStandIn]:
    """The market-data stand-in on a free port."""
    async with MarketDataStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def settings(sim: TelegramSimulator, market: MarketDataStandIn) -> BotSettings:
    """Polling against the simulator; Alice and Bob allowed; 5 commands per 30 s."""
    return BotSettings(token=sim.token, api_base_url=sim.base_url, market_data_url=market.url,
                       allowed_user_ids=frozenset({ALICE.id, BOB.id}), rate_limit_commands=5,
                       rate_limit_window_s=30.0, market_data_timeout_s=5.0)


RunBot = Callable[..., Any]


@pytest.fixture
def running_bot(settings: BotSettings) -> RunBot:
    """`async with running_bot(**overrides) as info:` runs the real bot until the block ends."""

    @asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[dict[str, Any]]:
        ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(replace(settings, **overrides), stop=stop, on_ready=ready.set_result))
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what stopped the bot from starting
        try:
            yield ready.result()
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)

    return run
