"""Data-quality checks on exchange answers, and cross-exchange comparisons (outliers, arbitrage).

Pure functions over ccxt's unified structures (tickers, order books, open interest): they return
flags, never raise, and never import ccxt. An HTML page served with status 200 makes ccxt return a
ticker whose fields are all None without raising, so "missing_fields" is the check that catches it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

MISSING = "missing_fields"
STALE = "stale"
CROSSED = "crossed_book"
NON_POSITIVE_VOLUME = "non_positive_volume"
NON_POSITIVE_OI = "non_positive_open_interest"
OUTLIER = "price_outlier"

TICKER_METHODS = frozenset({"fetch_ticker", "watch_ticker", "fetchTicker", "watchTicker"})
BOOK_METHODS = frozenset({"fetch_order_book", "watch_order_book", "fetchOrderBook", "watchOrderBook"})
OI_METHODS = frozenset({"fetch_open_interest", "fetchOpenInterest"})
CHECKED_METHODS = TICKER_METHODS | BOOK_METHODS | OI_METHODS


def _stale(timestamp_ms: Any, now_s: float, max_age_s: float, facts: dict[str, Any]) -> bool:
    if not isinstance(timestamp_ms, int | float):
        return False
    age_s = now_s - timestamp_ms / 1000.0
    if age_s > max_age_s:
        facts["age_s"] = round(age_s, 3)
        return True
    return False


def ticker_flags(ticker: Mapping[str, Any], now_s: float, max_age_s: float) -> tuple[list[str], dict[str, Any]]:
    """Flags for one ccxt ticker, with the facts behind them (missing field names, age)."""
    flags: list[str] = []
    facts: dict[str, Any] = {}
    missing = [name for name in ("last", "timestamp") if ticker.get(name) is None]
    if missing:
        flags.append(MISSING)
        facts["missing"] = missing
    if _stale(ticker.get("timestamp"), now_s, max_age_s, facts):
        flags.append(STALE)
    bid, ask = ticker.get("bid"), ticker.get("ask")
    if isinstance(bid, int | float) and isinstance(ask, int | float) and bid >= ask:
        flags.append(CROSSED)
    volume = ticker.get("baseVolume")
    if isinstance(volume, int | float) and volume <= 0:
        flags.append(NON_POSITIVE_VOLUME)
    return flags, facts


def book_flags(book: Mapping[str, Any], now_s: float, max_age_s: float) -> tuple[list[str], dict[str, Any]]:
    """Flags for one ccxt order book: an empty side, staleness, best bid at or above best ask."""
    flags: list[str] = []
    facts: dict[str, Any] = {}
    bids, asks = book.get("bids") or [], book.get("asks") or []
    missing = [side for side, levels in (("bids", bids), ("asks", asks)) if not levels]
    if missing:
        flags.append(MISSING)
        facts["missing"] = missing
    if _stale(book.get("timestamp"), now_s, max_age_s, facts):
        flags.append(STALE)
    if bids and asks and bids[0][0] >= asks[0][0]:
        flags.append(CROSSED)
        facts["best_bid"], facts["best_ask"] = bids[0][0], asks[0][0]
    return flags, facts


def open_interest_flags(oi: Mapping[str, Any], now_s: float, max_age_s: float) -> tuple[list[str], dict[str, Any]]:
    """Flags for one ccxt open-interest structure: no amount nor value, staleness, zero or negative."""
    flags: list[str] = []
    facts: dict[str, Any] = {}
    amounts = [oi.get("openInterestAmount"), oi.get("openInterestValue")]
    known = [a for a in amounts if isinstance(a, int | float)]
    if not known:
        flags.append(MISSING)
        facts["missing"] = ["openInterestAmount", "openInterestValue"]
    elif any(a <= 0 for a in known):
        flags.append(NON_POSITIVE_OI)
    if _stale(oi.get("timestamp"), now_s, max_age_s, facts):
        flags.append(STALE)
    return flags, facts


def answer_flags(method: str, answer: Any, now_s: float, max_age_s: float,
                 oi_max_age_s: float) -> tuple[list[str], dict[str, Any]]:
    """Dispatch on the ccxt method that produced the answer; unknown methods or shapes yield no flags.

    Open interest has its own age limit: some venues (Bybit) answer with the last hourly bucket.
    """
    if not isinstance(answer, Mapping):
        return ([MISSING], {"missing": ["answer"]}) if answer is None else ([], {})
    if method in TICKER_METHODS:
        return ticker_flags(answer, now_s, max_age_s)
    if method in BOOK_METHODS:
        return book_flags(answer, now_s, max_age_s)
    if method in OI_METHODS:
        return open_interest_flags(answer, now_s, oi_max_age_s)
    return [], {}


def price_of(value: Any) -> float | None:
    """A number, or a ticker's last price (its bid/ask midpoint when last is missing)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        last = value.get("last")
        if isinstance(last, int | float):
            return float(last)
        bid, ask = value.get("bid"), value.get("ask")
        if isinstance(bid, int | float) and isinstance(ask, int | float):
            return (bid + ask) / 2.0
    return None


def outliers(prices_by_exchange: Mapping[str, Any], max_deviation_pct: float) -> tuple[float | None, dict[str, float]]:
    """The median of the known prices and each exchange further from it than max_deviation_pct (in %)."""
    prices = {ex: p for ex, raw in prices_by_exchange.items() if (p := price_of(raw)) is not None and p > 0}
    if len(prices) < 3:  # with two prices the median cannot say which one is wrong
        return (statistics.median(prices.values()) if prices else None), {}
    median = statistics.median(prices.values())
    deviations = {ex: (p - median) / median * 100.0 for ex, p in prices.items()}
    return median, {ex: round(d, 4) for ex, d in deviations.items() if abs(d) > max_deviation_pct}


def _side(ticker: Any, side: str) -> float | None:
    if isinstance(ticker, Mapping) and isinstance(ticker.get(side), int | float) and ticker[side] > 0:
        return float(ticker[side])
    return price_of(ticker)


def best_arbitrage(tickers_by_exchange: Mapping[str, Any], fee_pct: float) -> dict[str, Any] | None:
    """Buy at the lowest ask, sell at the highest bid elsewhere; fee_pct is paid on each of the two legs."""
    asks = {ex: p for ex, t in tickers_by_exchange.items() if (p := _side(t, "ask")) is not None and p > 0}
    bids = {ex: p for ex, t in tickers_by_exchange.items() if (p := _side(t, "bid")) is not None and p > 0}
    best: dict[str, Any] | None = None
    for buy, ask in asks.items():
        for sell, bid in bids.items():
            if buy == sell:
                continue
            spread_pct = (bid - ask) / ask * 100.0
            if best is None or spread_pct > best["spread_pct"]:
                best = {"buy_exchange": buy, "sell_exchange": sell, "buy_price": ask, "sell_price": bid,
                        "spread_pct": spread_pct}
    if best is not None:
        best["net_spread_pct"] = round(best["spread_pct"] - 2.0 * fee_pct, 6)
        best["spread_pct"] = round(best["spread_pct"], 6)
    return best
