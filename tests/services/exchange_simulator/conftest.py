"""Fixtures for the exchange simulator tests: a fake clock, a live server, ccxt clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.exchange_simulator import FakeClock, SimulatorServer
from services.exchange_simulator.client import make_exchange

START = 1_764_000_123.5  # not aligned to a minute, so the forming candle has a real span


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock the tests move by hand."""
    return FakeClock(START)


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[SimulatorServer]:
    """A simulator on 127.0.0.1:<free port> driven by the fake clock."""
    async with SimulatorServer(clock=clock, ws_interval=0.05) as server:
        yield server


@pytest.fixture
async def connect(sim: SimulatorServer) -> AsyncIterator[Callable[..., Any]]:
    """Build real ccxt clients against the simulator; all are closed after the test."""
    made: list[Any] = []

    def build(exchange_id: str, **config: Any) -> Any:
        config = {"enableRateLimit": False, "timeout": 3000, **config}
        exchange = make_exchange(exchange_id, sim.base_url, **config)
        made.append(exchange)
        return exchange

    yield build
    for exchange in made:
        await exchange.close()
