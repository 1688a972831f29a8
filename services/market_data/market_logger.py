"""MarketLogger: market-data's events, so OI, volume, indicators and the cache read the same in every log.

    mlog = MarketLogger()
    okx = mlog.wrap_exchange(ccxt.async_support.okx())        # exchange_api_call per call
    canonical = mlog.harmonise_symbol("XBTUSD", exchange="bitmex")   # "BTC-USD"
    mlog.oi_aggregation("BTC-USDT", {"okx": 3.2e9}, failed=["bybit"], response_time_ms=41.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from crypto_observability.shared.errors import error_info
from crypto_observability.shared.exchange_logger import ExchangeLogger, LoggedExchange, error_type
from crypto_observability.shared.structured_logger import StructuredLogger, create_structured_logger

from .symbols import UnknownSymbol, harmonise

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
__all__ = ["MarketLogger", "UnknownSymbol"]


class MarketLogger:
    """The market-data service's typed events on top of one StructuredLogger and one ExchangeLogger."""

    def __init__(self, slog: StructuredLogger | None = None, *, exchange_logger: ExchangeLogger | None = None,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.slog = slog or create_structured_logger("market-data", "market_logger")
        self.exchange_logger = exchange_logger or ExchangeLogger(self.slog)
        self._timer = timer

    def wrap_exchange(self, exchange: Any) -> LoggedExchange:
        """Wrap a ccxt exchange so each API call logs exchange_api_call (see ExchangeLogger)."""
        return self.exchange_logger.wrap(exchange)

    def exchange_api_call(self, exchange: str, method: str, symbol: str | None, response_time_ms: float,
                          error: BaseException | None = None) -> None:
        """Log one exchange call made outside a wrapped exchange (same event and metrics)."""
        self.exchange_logger.record_call(exchange, method, symbol, response_time_ms, error)

    def harmonise_symbol(self, raw: str, exchange: str | None = None, default_quote: str | None = None) -> str:
        """Return the canonical BASE-QUOTE; log symbol_unmapped and raise UnknownSymbol when there is none."""
        try:
            canonical = harmonise(raw, default_quote)
        except UnknownSymbol as exc:
            context: dict[str, Any] = {"raw": str(raw)[:64], "reason": exc.reason}
            if exchange is not None:
                context["exchange"] = exchange
            self.slog.log(WARNING, f"unmapped symbol {str(raw)[:64]!r}", context, event="symbol_unmapped")
            raise
        if self.slog.is_enabled_for(DEBUG):
            context = {"raw": raw, "canonical": canonical}
            if exchange is not None:
                context["exchange"] = exchange
            self.slog.log(DEBUG, f"{raw} -> {canonical}", context, event="symbol_harmonised")
        return canonical

    def oi_aggregation(self, symbol: str, per_exchange_usd: Mapping[str, float], failed: Iterable[str] = (),
                       response_time_ms: float = 0.0) -> dict[str, Any]:
        """Log open interest summed over the exchanges that answered; partial when some failed."""
        failures = sorted(set(failed))
        answered = len(per_exchange_usd)
        context = {
            "symbol": symbol, "exchanges_count": answered + len(failures), "exchanges_answered": answered,
            "exchanges_failed": failures, "total_oi_usd": round(sum(per_exchange_usd.values()), 2),
            "per_exchange": {ex: round(usd, 2) for ex, usd in per_exchange_usd.items()},
            "response_time_ms": round(response_time_ms, 3), "success": answered > 0,
            "partial": answered > 0 and bool(failures),
        }
        level = ERROR if not answered else (WARNING if failures else INFO)
        outcome = "failed" if not answered else ("partial" if failures else "complete")
        self.slog.log(level, f"OI aggregation {outcome} for {symbol}: {answered}/{context['exchanges_count']}",
                      context, event="oi_aggregation")
        return context

    def volume_analysis(self, symbol: str, per_exchange_volume_usd: Mapping[str, float],
                        response_time_ms: float, failed: Iterable[str] = ()) -> dict[str, Any]:
        """Log 24h volume summed over exchanges, with each exchange's share."""
        failures = sorted(set(failed))
        context: dict[str, Any] = {
            "symbol": symbol, "exchanges_count": len(per_exchange_volume_usd) + len(failures),
            "total_volume_usd": round(sum(per_exchange_volume_usd.values()), 2),
            "per_exchange": {ex: round(v, 2) for ex, v in per_exchange_volume_usd.items()},
            "response_time_ms": round(response_time_ms, 3),
        }
        if failures:
            context["exchanges_failed"] = failures
        self.slog.log(WARNING if failures else INFO, f"volume analysis for {symbol}", context,
                      event="volume_analysis")
        return context

    def indicator_calculated(self, symbol: str, indicator: str, timeframe: str, candles: int,
                             response_time_ms: float, success: bool = True) -> None:
        """Log how long one technical indicator took over how many candles."""
        self.slog.log(INFO if success else WARNING, f"{indicator} {symbol} {timeframe}",
                      {"symbol": symbol, "indicator": indicator, "timeframe": timeframe, "candles": candles,
                       "response_time_ms": round(response_time_ms, 3), "success": success},
                      event="indicator_calculated")

    @contextmanager
    def time_indicator(self, symbol: str, indicator: str, timeframe: str, candles: int) -> Iterator[None]:
        """Time the block and log indicator_calculated; an exception is logged as success false and re-raised."""
        start = self._timer()
        try:
            yield
        except Exception:
            self.indicator_calculated(symbol, indicator, timeframe, candles, (self._timer() - start) * 1000.0,
                                      success=False)
            raise
        self.indicator_calculated(symbol, indicator, timeframe, candles, (self._timer() - start) * 1000.0)

    def long_short_fetch(self, symbol: str, exchange: str, ratio: float | None, response_time_ms: float,
                         error: BaseException | None = None) -> None:
        """Log one long/short ratio fetch; a failure carries its error_type and the error block."""
        context: dict[str, Any] = {"symbol": symbol, "exchange": exchange, "ratio": ratio,
                                   "success": error is None, "response_time_ms": round(response_time_ms, 3)}
        if error is None:
            self.slog.log(INFO, f"long/short {symbol} on {exchange}: {ratio}", context, event="long_short_fetch")
            return
        context["error_type"] = error_type(error)
        self.slog.log(WARNING, f"long/short {symbol} on {exchange} failed", context, event="long_short_fetch",
                      error=error_info(error))

    def cache_stats(self, cache: str, hits: int, misses: int, entries: int, interval_s: float) -> None:
        """Log one interval's cache hits and misses at INFO (the per-lookup lines are DEBUG)."""
        context = {"cache": cache, "hits": hits, "misses": misses, "entries": entries, "interval_s": interval_s}
        self.slog.log(INFO, f"cache {cache}: {hits} hits, {misses} misses", context, event="cache_stats")

    def health_check(self, component: str, healthy: bool, **context: Any) -> None:
        """Log a health check at INFO, or WARNING when unhealthy."""
        self.slog.log(INFO if healthy else WARNING, f"{component} {'healthy' if healthy else 'unhealthy'}",
                      {"component": component, "healthy": healthy, **context}, event="health_check")

    def cache_operation(self, operation: str, key: str, hit: bool, ttl_s: float | None = None) -> None:
        """Log a cache get (hit says whether it found a value), set (with ttl_s) or evict, at DEBUG."""
        if self.slog.is_enabled_for(DEBUG):
            context: dict[str, Any] = {"operation": operation, "key": key, "hit": hit}
            if ttl_s is not None:
                context["ttl_s"] = ttl_s
            self.slog.log(DEBUG, f"cache {operation} {key}", context, event="cache_operation")
