"""Bybit v5 linear perpetuals (ccxt `bybit`): the public market endpoints, in Bybit's retCode envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .instruments import BY_PAIR, COINS, Coin, fmt
from .venue_base import (
    Ctx,
    Reply,
    VenueError,
    book_levels,
    candles,
    int_param,
    interval_seconds,
    opt_int,
    window,
)

NAME = "bybit"


def envelope(ctx: Ctx, result: Any) -> Reply:
    """Wrap a result as Bybit does: {"retCode": 0, "retMsg": "OK", "result": ..., "time": ...}."""
    return Reply({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": ctx.now_ms})


def error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Reply:
    """Return Bybit's error body with a non-zero retCode."""
    return Reply(
        {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0}, status, headers or {}
    )


def rate_limited(retry_after: int) -> Reply:
    """Return Bybit's 'Too many visits' (retCode 10006) with status 429."""
    return error(429, 10006, "Too many visits!", {"Retry-After": str(retry_after)})


def banned(retry_after: int) -> Reply:
    """Return a bare 418 (a raw-status test: Bybit itself answers 429 or 403), which ccxt maps by status."""
    return Reply("418 I'm a teapot: IP banned", 418, {"Retry-After": str(retry_after)}, "text/plain")


def bad_request(msg: str) -> Reply:
    """Return Bybit's parameter error (retCode 10001, HTTP 200)."""
    return error(200, 10001, msg)


def _linear(query: Mapping[str, str]) -> None:
    """Reject categories other than linear for per-symbol calls, as Bybit would not find the symbol."""
    if query.get("category", "linear") != "linear":
        raise VenueError(bad_request(f"params error: category {query.get('category')!r} is not simulated"))


def _coin(query: Mapping[str, str]) -> Coin:
    """Resolve the `symbol` param or answer Bybit's 'symbol invalid'."""
    _linear(query)
    coin = BY_PAIR.get(query.get("symbol", "").upper())
    if coin is None:
        raise VenueError(bad_request("params error: symbol invalid"))
    return coin


def _instrument(coin: Coin) -> dict[str, Any]:
    """Describe one linear perpetual as instruments-info does."""
    return {
        "symbol": coin.pair,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": coin.base,
        "quoteCoin": "USDT",
        "settleCoin": "USDT",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(len(coin.tick.split(".")[-1])),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": f"{coin.max_leverage}.00",
            "leverageStep": "0.01",
        },
        "priceFilter": {"minPrice": coin.tick, "maxPrice": "1999999.80", "tickSize": coin.tick},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": coin.qty_step,
            "qtyStep": coin.qty_step,
            "postOnlyMaxOrderQty": "1190.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "copyTrading": "both",
    }


def instruments_info(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/instruments-info: linear perpetuals; other categories and PreLaunch are empty."""
    category = query.get("category", "")
    listed = category == "linear" and query.get("status", "Trading") == "Trading"
    rows = [_instrument(c) for c in COINS] if listed else []
    return envelope(ctx, {"category": category, "list": rows})


def tickers(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/tickers: one symbol, or all of the category."""
    _linear(query)
    coins = [_coin(query)] if query.get("symbol") else list(COINS)
    return envelope(ctx, {"category": "linear", "list": [ticker_entry(ctx, c) for c in coins]})


def ticker_entry(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build one linear ticker entry."""
    opening, high, low, last = ctx.model.stats_24h(NAME, coin, ctx.now)
    (bid, bid_size), (ask, ask_size) = (side[0] for side in book_levels(ctx, coin, 1))
    volume = ctx.model.daily_volume(NAME, coin, ctx.now)
    oi = ctx.model.open_interest(NAME, coin, ctx.now)
    return {
        "symbol": coin.pair,
        "lastPrice": fmt(last, coin.tick),
        "indexPrice": fmt(last * 0.9999, coin.tick),
        "markPrice": fmt(last, coin.tick),
        "prevPrice24h": fmt(opening, coin.tick),
        "price24hPcnt": f"{last / opening - 1:.6f}",
        "highPrice24h": fmt(high, coin.tick),
        "lowPrice24h": fmt(low, coin.tick),
        "prevPrice1h": fmt(ctx.model.price(NAME, coin, ctx.now - 3600), coin.tick),
        "openInterest": fmt(oi, coin.qty_step),
        "openInterestValue": f"{oi * last:.2f}",
        "turnover24h": f"{volume * (high + low + last) / 3:.4f}",
        "volume24h": fmt(volume, coin.qty_step),
        "fundingRate": "0.0001",
        "nextFundingTime": str((ctx.now_ms // 28_800_000 + 1) * 28_800_000),
        "bid1Price": fmt(bid, coin.tick),
        "bid1Size": fmt(bid_size, coin.qty_step),
        "ask1Price": fmt(ask, coin.tick),
        "ask1Size": fmt(ask_size, coin.qty_step),
        "time": ctx.now_ms,
    }


def orderbook(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/orderbook: `limit` levels a side under keys b and a."""
    coin = _coin(query)
    bids, asks = book_levels(ctx, coin, int_param(query, "limit", 25, high=500))
    return envelope(
        ctx,
        {
            "s": coin.pair,
            "b": [[fmt(p, coin.tick), fmt(q, coin.qty_step)] for p, q in bids],
            "a": [[fmt(p, coin.tick), fmt(q, coin.qty_step)] for p, q in asks],
            "ts": ctx.now_ms,
            "u": ctx.now_ms // 100,
            "seq": ctx.now_ms // 10,
            "cts": ctx.now_ms - 2,
        },
    )


def kline(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/kline: [start, o, h, l, c, volume, turnover] strings, newest first."""
    coin = _coin(query)
    step = interval_seconds(query.get("interval", ""))
    limit = int_param(query, "limit", 200)
    bars = candles(
        ctx, coin, step, window(ctx.now, step, limit, opt_int(query, "start"), opt_int(query, "end"))
    )
    rows = [
        [
            str(b.start_ms),
            fmt(b.open, coin.tick),
            fmt(b.high, coin.tick),
            fmt(b.low, coin.tick),
            fmt(b.close, coin.tick),
            fmt(b.volume, coin.qty_step),
            f"{b.volume * b.close:.4f}",
        ]
        for b in bars
    ]
    return envelope(ctx, {"category": "linear", "symbol": coin.pair, "list": rows[::-1]})


def _stat_window(ctx: Ctx, query: Mapping[str, str], key: str) -> list[int]:
    """Return the period starts of an open-interest or account-ratio query, newest first."""
    step = interval_seconds(query.get(key, "1h"))
    limit = int_param(query, "limit", 50, high=500)
    return window(ctx.now, step, limit, opt_int(query, "startTime"), opt_int(query, "endTime"))[::-1]


def open_interest(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/open-interest: open interest per intervalTime, newest first."""
    coin = _coin(query)
    rows = [
        {
            "openInterest": fmt(ctx.model.open_interest(NAME, coin, s), coin.qty_step),
            "timestamp": str(s * 1000),
        }
        for s in _stat_window(ctx, query, "intervalTime")
    ]
    return envelope(ctx, {"symbol": coin.pair, "category": "linear", "list": rows, "nextPageCursor": ""})


def account_ratio(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/account-ratio: buy and sell account shares per period, newest first."""
    coin = _coin(query)
    rows = []
    for start in _stat_window(ctx, query, "period"):
        ratio = ctx.model.long_short_ratio(NAME, coin, start)
        buy = ratio / (1 + ratio)
        rows.append(
            {
                "symbol": coin.pair,
                "buyRatio": f"{buy:.4f}",
                "sellRatio": f"{1 - buy:.4f}",
                "timestamp": str(start * 1000),
            }
        )
    return envelope(ctx, {"list": rows, "nextPageCursor": ""})


def server_time(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /v5/market/time."""
    return envelope(ctx, {"timeSecond": str(ctx.now_ms // 1000), "timeNano": str(ctx.now_ms * 1_000_000)})


ROUTES = {
    "/v5/market/time": server_time,
    "/v5/market/instruments-info": instruments_info,
    "/v5/market/tickers": tickers,
    "/v5/market/orderbook": orderbook,
    "/v5/market/kline": kline,
    "/v5/market/open-interest": open_interest,
    "/v5/market/account-ratio": account_ratio,
}
