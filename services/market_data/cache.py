"""A short TTL cache for exchange answers: every hit and miss logged at DEBUG, and counted for the
per-interval ``cache_stats`` summary at INFO (``heartbeat.py``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class TTLCache:
    """Keeps answers for ttl_s seconds; get_or_fetch() logs cache_operation hit or miss."""

    def __init__(self, ttl_s: float, logger: Any, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self._logger = logger
        self._clock = clock
        self._max = max_entries
        self._entries: dict[str, tuple[float, Any]] = {}
        self.hits = 0
        self.misses = 0

    def take_stats(self) -> tuple[int, int, int]:
        """Return (hits, misses, entries) since the last call, and start counting afresh."""
        counts = (self.hits, self.misses, len(self._entries))
        self.hits = self.misses = 0
        return counts

    async def get_or_fetch(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """Return the cached value for key, or fetch, store and return it."""
        now = self._clock()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            self.hits += 1
            self._logger.cache_operation("get", key, hit=True, ttl_s=self.ttl_s)
            return found[1]  # type: ignore[no-any-return]
        self.misses += 1
        self._logger.cache_operation("get", key, hit=False, ttl_s=self.ttl_s)
        value = await fetch()
        if self.ttl_s > 0:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (now + self.ttl_s, value)
        return value
