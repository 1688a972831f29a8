"""What market-data answers: prices, open interest, volume, indicators and long/short ratios.

Each answer asks every configured exchange at once, keeps what came back, and says plainly
which exchanges failed and why (a partial answer), so one rate-limited venue never blanks
the whole reply. Answers are cached for a few seconds.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .cache import TTLCache
from .exchanges import ExchangePool, Gathered
from .indicators import all_indicators
from .symbols import UnknownSymbol
from .symbols import to_ccxt_perpetual as unified_symbol


class NoExchangeAnswered(Exception):
    """Every exchange failed; carries why, per exchange."""

    def __init__(self, what: str, failures: dict[str, str]) -> None:
        self.failures = failures
        super().__init__(f"no exchange answered {what}: " + ", ".join(f"{e}={t}" for e, t in failures.items()))


def no_answer(symbol: str, what: str, failures: dict[str, str]) -> Exception:
    """UnknownSymbol when every exchange said the symbol does not exist, else NoExchangeAnswered."""
    if failures and set(failures.values()) <= {"bad_symbol", "not_listed"}:
        return UnknownSymbol(symbol, "no configured exchange lists it")
    return NoExchangeAnswered(f"{what} {symbol}", failures)


def _summary(gathered: Gathered) -> dict[str, Any]:
    return {"exchanges_answered": sorted(gathered.answers), "exchanges_failed": gathered.failures,
            "partial": gathered.partial}


def _unknown_symbol_check(symbol: str, gathered: Gathered) -> None:
    """A symbol no exchange lists is the caller's mistake (404), not a failed aggregation to log as one."""
    if not gathered.answers and gathered.failures and set(gathered.failures.values()) <= {"bad_symbol", "not_listed"}:
        raise UnknownSymbol(symbol, "no configured exchange lists it")


def _quote_volume(ticker: dict[str, Any]) -> float | None:
    """24 h volume in the quote currency; from base volume x last price when the venue omits it."""
    if ticker.get("quoteVolume") is not None:
        return float(ticker["quoteVolume"])
    if ticker.get("baseVolume") is not None and ticker.get("last") is not None:
        return float(ticker["baseVolume"]) * float(ticker["last"])
    return None


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


class MarketData:
    """The service's logic, independent of HTTP so it is tested directly."""

    def __init__(self, pool: ExchangePool, cache: TTLCache, events: Any) -> None:
        self.pool = pool
        self.cache = cache
        self.events = events

    async def price(self, symbol: str) -> dict[str, Any]:
        """Last price on every exchange and their median."""
        return await self.cache.get_or_fetch(f"price:{symbol}", lambda: self._price(symbol))

    async def _price(self, symbol: str) -> dict[str, Any]:
        market = unified_symbol(symbol)
        gathered = await self.pool.fetch_all(lambda client, _: client.fetch_ticker(market), market=market)
        prices = {e: t["last"] for e, t in gathered.answers.items() if t.get("last") is not None}
        for exchange_id in set(gathered.answers) - set(prices):
            gathered.failures[exchange_id] = "bad_data"
            gathered.answers.pop(exchange_id)
        if not prices:
            raise no_answer(symbol, "the price of", gathered.failures)
        changes = {e: t.get("percentage") for e, t in gathered.answers.items()}
        outliers: dict[str, float] = {}
        if len(prices) >= 3:  # a median needs three to say who is off
            outliers = self.events.exchange_logger.check_cross_exchange(symbol, prices)
        arbitrage = self.events.exchange_logger.detect_arbitrage(symbol, gathered.answers) if len(prices) >= 2 else None
        return {"symbol": symbol, "prices": prices, "median_price": statistics.median(prices.values()),
                "change_24h_pct": changes, "price_outliers_pct": outliers, "arbitrage": arbitrage,
                **_summary(gathered)}

    async def open_interest(self, symbol: str) -> dict[str, Any]:
        """Open interest in USD per exchange and in total."""
        return await self.cache.get_or_fetch(f"oi:{symbol}", lambda: self._open_interest(symbol))

    async def _open_interest(self, symbol: str) -> dict[str, Any]:
        start, market = time.perf_counter(), unified_symbol(symbol)

        async def fetch(client: Any, _: str) -> float:
            oi = await client.fetch_open_interest(market)
            value = oi.get("openInterestValue")
            if value is None:
                ticker = await client.fetch_ticker(market)
                value = float(oi.get("openInterestAmount") or 0) * float(ticker.get("last") or 0)
            return float(value)

        gathered = await self.pool.fetch_all(fetch, market=market)
        _unknown_symbol_check(symbol, gathered)
        total = round(sum(gathered.answers.values()), 2)
        self.events.oi_aggregation(symbol, gathered.answers, failed=gathered.failures, response_time_ms=_ms(start))
        if not gathered.answers:
            raise no_answer(symbol, "the open interest of", gathered.failures)
        return {"symbol": symbol, "total_oi_usd": total, "per_exchange_usd": gathered.answers, **_summary(gathered)}

    async def volume(self, symbol: str) -> dict[str, Any]:
        """24 h quote volume per exchange and in total."""
        return await self.cache.get_or_fetch(f"volume:{symbol}", lambda: self._volume(symbol))

    async def _volume(self, symbol: str) -> dict[str, Any]:
        start, market = time.perf_counter(), unified_symbol(symbol)
        gathered = await self.pool.fetch_all(lambda client, _: client.fetch_ticker(market), market=market)
        _unknown_symbol_check(symbol, gathered)
        volumes = {e: v for e, t in gathered.answers.items() if (v := _quote_volume(t)) is not None}
        for exchange_id in set(gathered.answers) - set(volumes):
            gathered.failures[exchange_id] = "bad_data"
            gathered.answers.pop(exchange_id)
        total = round(sum(volumes.values()), 2)
        self.events.volume_analysis(symbol, volumes, _ms(start), failed=gathered.failures)
        if not volumes:
            raise no_answer(symbol, "the volume of", gathered.failures)
        return {"symbol": symbol, "total_volume_usd": total, "per_exchange_usd": volumes, **_summary(gathered)}

    async def indicators(self, symbol: str, timeframe: str = "1h") -> dict[str, Any]:
        """RSI, MACD, EMA and Bollinger bands from the first exchange that gives 100 candles."""
        return await self.cache.get_or_fetch(f"ind:{symbol}:{timeframe}", lambda: self._indicators(symbol, timeframe))

    async def _indicators(self, symbol: str, timeframe: str) -> dict[str, Any]:
        market, failures = unified_symbol(symbol), {}
        for exchange_id in self.pool.settings.exchanges:
            gathered = await self.pool.fetch_all(lambda c, _: c.fetch_ohlcv(market, timeframe, limit=100),
                                                 exchanges=(exchange_id,), market=market)
            candles = gathered.answers.get(exchange_id)
            if candles:
                with self.events.time_indicator(symbol, "rsi,macd,ema,bollinger", timeframe, len(candles)):
                    values = all_indicators([float(c[4]) for c in candles])
                return {"symbol": symbol, "exchange": exchange_id, "timeframe": timeframe, **values,
                        "exchanges_failed": failures, "partial": bool(failures)}
            failures.update(gathered.failures)
        raise no_answer(symbol, "candles for", failures)

    async def long_short(self, symbol: str) -> dict[str, Any]:
        """The latest long/short account ratio per exchange."""
        return await self.cache.get_or_fetch(f"ls:{symbol}", lambda: self._long_short(symbol))

    async def _long_short(self, symbol: str) -> dict[str, Any]:
        market = unified_symbol(symbol)

        async def fetch(client: Any, exchange_id: str) -> float:
            start = time.perf_counter()
            try:
                history = await client.fetch_long_short_ratio_history(market, "5m", None, 1)
                ratio = float(history[-1]["longShortRatio"])
            except Exception as exc:
                self.events.long_short_fetch(symbol, exchange_id, None, _ms(start), error=exc)
                raise
            self.events.long_short_fetch(symbol, exchange_id, ratio, _ms(start))
            return ratio

        gathered = await self.pool.fetch_all(fetch, market=market)
        if not gathered.answers:
            raise no_answer(symbol, "the long/short ratio of", gathered.failures)
        return {"symbol": symbol, "ratios": gathered.answers,
                "average_ratio": round(statistics.fmean(gathered.answers.values()), 4), **_summary(gathered)}
