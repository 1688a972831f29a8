"""Run the simulator in-process: `SimulatorServer` on the running loop, `ThreadedSimulator` for sync code."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .app import SIM_KEY, SimState, build_app
from .faults import Fault
from .market_model import MarketModel

T = TypeVar("T")


def _fault_payload(
    exchange: str,
    kind: str,
    probability: float,
    duration_s: float | None,
    path: str | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Build the admin endpoint's JSON body from Python keywords."""
    payload: dict[str, Any] = {
        "exchange": exchange,
        "kind": kind,
        "params": params,
        "probability": probability,
    }
    if duration_s is not None:
        payload["duration_s"] = duration_s
    if path is not None:
        payload["path"] = path
    return payload


class SimulatorServer:
    """The simulator on 127.0.0.1 inside the running event loop: `async with SimulatorServer() as sim`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 7,
        clock: Callable[[], float] = time.time,
        ws_interval: float = 1.0,
    ) -> None:
        self.host, self.port = host, port
        self.app = build_app(MarketModel(seed), clock, seed, ws_interval)
        self._runner: web.AppRunner | None = None

    @property
    def sim(self) -> SimState:
        """Return the shared state (model, clock, faults, counters)."""
        return self.app[SIM_KEY]

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT, the value `make_exchange(..., base_url)` takes."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> SimulatorServer:
        """Bind the port (0 picks a free one) and start serving."""
        self._runner = web.AppRunner(
            self.app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop serving; requests held by a timeout fault are released first."""
        if self._runner is not None:
            self.sim.stopping.set()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def inject(
        self,
        exchange: str,
        kind: str,
        *,
        probability: float = 1.0,
        duration_s: float | None = None,
        path: str | None = None,
        **params: Any,
    ) -> Fault:
        """Install a fault, e.g. `inject("okx", "latency", ms=200)`; raises FaultError when invalid."""
        return self.sim.faults.add(_fault_payload(exchange, kind, probability, duration_s, path, params))

    def clear(self, exchange: str | None = None) -> int:
        """Remove all faults, or one exchange's."""
        return self.sim.faults.clear(exchange)

    def state(self) -> dict[str, Any]:
        """Return what GET /_admin/state returns."""
        return self.sim.state()


class ThreadedSimulator:
    """The simulator on its own loop in a daemon thread, for sync code: `with ThreadedSimulator() as sim`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        self._args = (host, port)
        self._kwargs = kwargs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="exchange-simulator", daemon=True)
        self.server: SimulatorServer | None = None

    def _call(self, fn: Callable[[], T]) -> T:
        """Run fn on the simulator's loop and return its result."""

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    def start(self) -> ThreadedSimulator:
        """Start the thread and the server; returns once the port is bound."""
        self._thread.start()

        async def boot() -> SimulatorServer:
            return await SimulatorServer(*self._args, **self._kwargs).start()

        self.server = asyncio.run_coroutine_threadsafe(boot(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop the server, the loop and the thread."""
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
            self.server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ThreadedSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT."""
        assert self.server is not None, "ThreadedSimulator is not started"
        return self.server.base_url

    def inject(self, exchange: str, kind: str, **kwargs: Any) -> Fault:
        """Install a fault (same keywords as SimulatorServer.inject)."""
        assert self.server is not None, "ThreadedSimulator is not started"
        server = self.server
        return self._call(lambda: server.inject(exchange, kind, **kwargs))

    def clear(self, exchange: str | None = None) -> int:
        """Remove all faults, or one exchange's."""
        assert self.server is not None, "ThreadedSimulator is not started"
        server = self.server
        return self._call(lambda: server.clear(exchange))

    def state(self) -> dict[str, Any]:
        """Return what GET /_admin/state returns."""
        assert self.server is not None, "ThreadedSimulator is not started"
        server = self.server
        return self._call(server.state)
