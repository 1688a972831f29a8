"""Binance USDⓈ-M futures (ccxt `binanceusdm`): the public REST endpoints market-data calls."""

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

NAME = "binanceusdm"
_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Reply:
    """Return Binance's error body {"code": -NNNN, "msg": ...}."""
    return Reply({"code": code, "msg": msg}, status, headers or {})


def rate_limited(retry_after: int) -> Reply:
    """Return Binance's 429 for request weight over the limit."""
    msg = "Too many requests; current limit is 2400 request weight per 1 MINUTE."
    return error(429, -1003, msg, {"Retry-After": str(retry_after)})


def banned(retry_after: int) -> Reply:
    """Return Binance's 418 for an IP auto-banned after repeated 429s."""
    return error(418, -1003, "Way too many requests; IP banned.", {"Retry-After": str(retry_after)})


def bad_request(msg: str) -> Reply:
    """Return Binance's 400 for an illegal parameter."""
    return error(400, -1100, msg)


def _coin(query: Mapping[str, str]) -> Coin:
    """Resolve the `symbol` param, answering -1121 Invalid symbol as Binance does."""
    coin = BY_PAIR.get(query.get("symbol", "").upper())
    if coin is None:
        raise VenueError(error(400, -1121, "Invalid symbol."))
    return coin


def _symbol_info(coin: Coin) -> dict[str, Any]:
    """Describe one perpetual as exchangeInfo does."""
    tick_decimals = len(coin.tick.split(".")[1]) if "." in coin.tick else 0
    qty_decimals = len(coin.qty_step.split(".")[1]) if "." in coin.qty_step else 0
    return {
        "symbol": coin.pair,
        "pair": coin.pair,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": coin.base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": tick_decimals,
        "quantityPrecision": qty_decimals,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "tickSize": coin.tick,
                "minPrice": coin.tick,
                "maxPrice": "4529764",
            },
            {
                "filterType": "LOT_SIZE",
                "stepSize": coin.qty_step,
                "minQty": coin.qty_step,
                "maxQty": "1000000",
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "stepSize": coin.qty_step,
                "minQty": coin.qty_step,
                "maxQty": "120000",
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
    }


def exchange_info(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/exchangeInfo: the simulated perpetuals."""
    return Reply(
        {
            "timezone": "UTC",
            "serverTime": ctx.now_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True}],
            "symbols": [_symbol_info(c) for c in COINS],
        }
    )


def _ticker(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build one 24hr ticker entry."""
    opening, high, low, last = ctx.model.stats_24h(NAME, coin, ctx.now)
    volume = ctx.model.daily_volume(NAME, coin, ctx.now)
    vwap = (high + low + last) / 3
    return {
        "symbol": coin.pair,
        "priceChange": fmt(last - opening, coin.tick),
        "priceChangePercent": f"{(last / opening - 1) * 100:.3f}",
        "weightedAvgPrice": fmt(vwap, coin.tick),
        "lastPrice": fmt(last, coin.tick),
        "lastQty": coin.qty_step,
        "openPrice": fmt(opening, coin.tick),
        "highPrice": fmt(high, coin.tick),
        "lowPrice": fmt(low, coin.tick),
        "volume": fmt(volume, coin.qty_step),
        "quoteVolume": f"{volume * vwap:.2f}",
        "openTime": ctx.now_ms - 86_400_000,
        "closeTime": ctx.now_ms,
        "firstId": 5_000_000_000,
        "lastId": 5_000_000_000 + int(volume) % 9_000_000,
        "count": 2_000_000,
    }


def ticker_24hr(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/ticker/24hr: one symbol, or all of them without `symbol`."""
    if "symbol" not in query:
        return Reply([_ticker(ctx, c) for c in COINS])
    return Reply(_ticker(ctx, _coin(query)))


def depth(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/depth: the order book, `limit` levels a side."""
    coin = _coin(query)
    limit = int_param(query, "limit", 500)
    limit = min((x for x in _DEPTH_LIMITS if x >= limit), default=1000)
    bids, asks = book_levels(ctx, coin, limit)
    return Reply(
        {
            "lastUpdateId": ctx.now_ms * 10,
            "E": ctx.now_ms,
            "T": ctx.now_ms - 3,
            "bids": [[fmt(p, coin.tick), fmt(q, coin.qty_step)] for p, q in bids],
            "asks": [[fmt(p, coin.tick), fmt(q, coin.qty_step)] for p, q in asks],
        }
    )


def klines(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/klines: 12-element candle arrays, oldest first."""
    coin = _coin(query)
    step = interval_seconds(query.get("interval", ""))
    limit = int_param(query, "limit", 500, high=1500)
    starts = window(ctx.now, step, limit, opt_int(query, "startTime"), opt_int(query, "endTime"))
    bars = candles(ctx, coin, step, starts)
    rows = []
    for bar in bars:
        close_ms = bar.start_ms + step * 1000 - 1
        quote = bar.volume * (bar.open + bar.close) / 2
        rows.append(
            [
                bar.start_ms,
                fmt(bar.open, coin.tick),
                fmt(bar.high, coin.tick),
                fmt(bar.low, coin.tick),
                fmt(bar.close, coin.tick),
                fmt(bar.volume, coin.qty_step),
                close_ms,
                f"{quote:.4f}",
                max(1, int(bar.volume * 7) % 100_000),
                fmt(bar.volume * 0.5, coin.qty_step),
                f"{quote * 0.5:.4f}",
                "0",
            ]
        )
    return Reply(rows)


def open_interest(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/openInterest: current open interest in base units."""
    coin = _coin(query)
    oi = ctx.model.open_interest(NAME, coin, ctx.now)
    return Reply({"symbol": coin.pair, "openInterest": fmt(oi, coin.qty_step), "time": ctx.now_ms})


def _stat_window(ctx: Ctx, query: Mapping[str, str], default_limit: int = 30) -> list[int]:
    """Return the period starts (seconds) of a /futures/data query, oldest first."""
    step = interval_seconds(query.get("period", "5m"))
    limit = int_param(query, "limit", default_limit, high=500)
    return window(ctx.now, step, limit, opt_int(query, "startTime"), opt_int(query, "endTime"))


def open_interest_hist(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /futures/data/openInterestHist: open interest per period."""
    coin = _coin(query)
    rows = []
    for start in _stat_window(ctx, query):
        oi = ctx.model.open_interest(NAME, coin, start)
        value = oi * ctx.model.price(NAME, coin, start)
        rows.append(
            {
                "symbol": coin.pair,
                "sumOpenInterest": f"{oi:.8f}",
                "sumOpenInterestValue": f"{value:.8f}",
                "timestamp": start * 1000,
            }
        )
    return Reply(rows)


def long_short_ratio(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /futures/data/globalLongShortAccountRatio (and the top-trader variants): ratio per period."""
    coin = _coin(query)
    rows = []
    for start in _stat_window(ctx, query):
        ratio = ctx.model.long_short_ratio(NAME, coin, start)
        long_share = ratio / (1 + ratio)
        rows.append(
            {
                "symbol": coin.pair,
                "longShortRatio": f"{ratio:.4f}",
                "longAccount": f"{long_share:.4f}",
                "shortAccount": f"{1 - long_share:.4f}",
                "timestamp": start * 1000,
            }
        )
    return Reply(rows)


def server_time(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /fapi/v1/time."""
    return Reply({"serverTime": ctx.now_ms})


ROUTES = {
    "/fapi/v1/ping": lambda ctx, q: Reply({}),
    "/fapi/v1/time": server_time,
    "/fapi/v1/exchangeInfo": exchange_info,
    "/fapi/v1/ticker/24hr": ticker_24hr,
    "/fapi/v1/depth": depth,
    "/fapi/v1/klines": klines,
    "/fapi/v1/openInterest": open_interest,
    "/futures/data/openInterestHist": open_interest_hist,
    "/futures/data/globalLongShortAccountRatio": long_short_ratio,
    "/futures/data/topLongShortAccountRatio": long_short_ratio,
    "/futures/data/topLongShortPositionRatio": long_short_ratio,
}
