"""The exchanges market-data reads, each a ccxt async client wrapped by the ExchangeLogger.

Pointed at the real venues by default and at the exchange simulator when configured; the
same code either way. fetch_all() asks every exchange at once and keeps partial answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from crypto_observability.shared.exchange_logger import error_type

from .config import MarketDataSettings

_NOT_LISTED = object()  # an exchange's answer when it does not list the market asked for


@dataclass
class Gathered:
    """What every exchange answered, and why the others did not."""

    answers: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Some exchanges answered and some failed."""
        return bool(self.answers) and bool(self.failures)


class ExchangePool:
    """Owns the ccxt clients; loads markets once per exchange, lazily."""

    def __init__(self, settings: MarketDataSettings, wrap: Callable[[Any], Any]) -> None:
        from .ccxt_clients import make_exchange  # imports ccxt: only when a pool is made

        self.settings = settings
        self.clients: dict[str, Any] = {}
        self._raw: dict[str, Any] = {}
        for exchange_id in settings.exchanges:
            raw = make_exchange(exchange_id, settings.simulator_url, timeout=settings.timeout_ms,
                                enableRateLimit=settings.simulator_url is None)
            self._raw[exchange_id] = raw
            self.clients[exchange_id] = wrap(raw)
        self._markets_loaded: dict[str, asyncio.Lock] = {e: asyncio.Lock() for e in settings.exchanges}

    async def _ready(self, exchange_id: str) -> Any:
        client = self.clients[exchange_id]
        if not self._raw[exchange_id].markets:
            async with self._markets_loaded[exchange_id]:
                if not self._raw[exchange_id].markets:
                    await client.load_markets()
        return client

    async def fetch_all(self, call: Callable[[Any, str], Awaitable[Any]],
                        exchanges: tuple[str, ...] | None = None, market: str | None = None) -> Gathered:
        """Run call(client, exchange_id) on every exchange concurrently; failures are classified, not raised.

        With market, an exchange that does not list it is not called at all: it fails as not_listed.
        """
        chosen = exchanges or self.settings.exchanges

        async def one(exchange_id: str) -> Any:
            client = await self._ready(exchange_id)
            if market is not None and market not in (self._raw[exchange_id].markets or {}):
                return _NOT_LISTED
            return await call(client, exchange_id)

        results = await asyncio.gather(*(one(e) for e in chosen), return_exceptions=True)
        gathered = Gathered()
        for exchange_id, result in zip(chosen, results, strict=True):
            if result is _NOT_LISTED:
                gathered.failures[exchange_id] = "not_listed"
            elif isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                gathered.failures[exchange_id] = error_type(result)
            else:
                gathered.answers[exchange_id] = result
        return gathered

    async def close(self) -> None:
        """Close every client's HTTP session."""
        await asyncio.gather(*(raw.close() for raw in self._raw.values()), return_exceptions=True)
