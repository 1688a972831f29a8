"""Fixtures the exchange-logger tests share: a fake clock, a live exchange simulator, captured logs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from crypto_observability.shared.testing import CapturedLogs, FakeClock, capture_logs
from services.exchange_simulator import SimulatorServer


@pytest.fixture
def clock() -> FakeClock:
    """The simulator's and the logger's shared fake clock."""
    return FakeClock(1_764_000_123.5)


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[SimulatorServer]:
    """A live exchange simulator on 127.0.0.1:<free port>."""
    async with SimulatorServer(clock=clock, ws_interval=0.02) as server:
        yield server


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """Capture every record of the test at DEBUG."""
    with capture_logs("DEBUG") as captured:
        yield captured
