"""Rolling per-exchange call metrics kept in process, so "which exchange is slow or failing" costs no query.

Each exchange keeps its last `max_calls` outcomes that are younger than `window_s` seconds of the
injected clock; the figures (success rate, p50/p95 latency, rate-limit count) are computed on demand.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple


class CallSample(NamedTuple):
    """One exchange call's outcome."""

    at: float
    response_time_ms: float
    success: bool
    error_type: str | None


def percentile(values: list[float], percent: int) -> float:
    """The ``percent``-th percentile (1-99) of a non-empty list: statistics.quantiles' inclusive method (linear
    interpolation, numpy's default); one value is its own percentile (quantiles needs two before Python 3.13)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


class RollingMetrics:
    """Per-exchange samples over the last N calls and M seconds, whichever is fewer."""

    def __init__(self, max_calls: int = 500, window_s: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        if max_calls < 1 or window_s <= 0:
            raise ValueError(f"max_calls must be >= 1 and window_s > 0, got {max_calls} and {window_s}")
        self.max_calls = max_calls
        self.window_s = window_s
        self._clock = clock
        self._samples: dict[str, deque[CallSample]] = {}

    def record(self, exchange: str, response_time_ms: float, success: bool, error_type: str | None = None) -> None:
        """Add one call's outcome (O(1); old samples fall off the deque's far end)."""
        samples = self._samples.get(exchange)
        if samples is None:
            samples = self._samples[exchange] = deque(maxlen=self.max_calls)
        samples.append(CallSample(self._clock(), response_time_ms, success, error_type))

    def exchanges(self) -> list[str]:
        """Every exchange seen so far, sorted."""
        return sorted(self._samples)

    def _live(self, exchange: str) -> list[CallSample]:
        samples = self._samples.get(exchange)
        if not samples:
            return []
        horizon = self._clock() - self.window_s
        while samples and samples[0].at < horizon:
            samples.popleft()
        return list(samples)

    def metrics(self, exchange: str) -> dict[str, Any]:
        """The exchange's figures over the window; calls == 0 and None figures when nothing is in it."""
        live = self._live(exchange)
        calls = len(live)
        errors: dict[str, int] = {}
        for sample in live:
            if not sample.success:
                key = sample.error_type or "internal"
                errors[key] = errors.get(key, 0) + 1
        latencies = [s.response_time_ms for s in live]
        failures = sum(errors.values())
        return {
            "exchange": exchange,
            "calls": calls,
            "success_rate": round((calls - failures) / calls, 4) if calls else None,
            "error_count": failures,
            "errors_by_type": errors,
            "rate_limit_count": errors.get("rate_limit", 0),
            "p50_ms": round(percentile(latencies, 50), 3) if calls else None,
            "p95_ms": round(percentile(latencies, 95), 3) if calls else None,
            "window_s": self.window_s,
        }

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every exchange's figures, keyed by exchange."""
        return {exchange: self.metrics(exchange) for exchange in self.exchanges()}
