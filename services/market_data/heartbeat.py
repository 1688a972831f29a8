"""What market-data saw each interval, at INFO: cache hits and misses, and each exchange's health.

Both are summaries of what the service already measured (the cache's counters, the ExchangeLogger's
rolling window), so the heartbeat costs no request and a few lines per interval; the analyzer's cache
and connectivity tables fill at the default level.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from .cache import TTLCache
from .market_logger import MarketLogger

INTERVAL_S = 30.0
HEALTHY_SUCCESS_RATE = 0.5  # an exchange answering at least half its calls in the window is up


class Heartbeat:
    """Logs ``cache_stats`` and one ``health_check`` per exchange every ``interval_s`` (and once at stop)."""

    def __init__(self, events: MarketLogger, cache: TTLCache, exchanges: Iterable[str],
                 interval_s: float = INTERVAL_S) -> None:
        self.events, self.cache, self.exchanges, self.interval_s = events, cache, tuple(exchanges), interval_s

    def beat(self) -> None:
        """Log this interval's cache figures and each exchange's health (exchanges not called are not judged)."""
        hits, misses, entries = self.cache.take_stats()
        if hits or misses:
            self.events.cache_stats("answers", hits, misses, entries, self.interval_s)
        for exchange in self.exchanges:
            figures = self.events.exchange_logger.metrics(exchange)
            if figures["calls"]:
                self.events.health_check(f"exchange:{exchange}", figures["success_rate"] >= HEALTHY_SUCCESS_RATE,
                                         exchange=exchange, calls=figures["calls"],
                                         success_rate=figures["success_rate"])

    async def run(self) -> None:
        """Beat every interval until cancelled."""
        while True:
            await asyncio.sleep(self.interval_s)
            self.beat()
