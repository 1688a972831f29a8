"""OKX v5 USDT-margined SWAP (ccxt `okx`): the public market endpoints, in OKX's {code, msg, data} envelope.

OKX counts swaps in contracts: sizes, order-book amounts, `vol24h` and `oi` are contracts of
`ctVal` base units each; `volCcy24h` and `oiCcy` are in base units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .instruments import BY_OKX_ID, COINS, Coin, fmt
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

NAME = "okx"


def envelope(data: list[Any]) -> Reply:
    """Wrap data as OKX does: {"code": "0", "msg": "", "data": [...]}."""
    return Reply({"code": "0", "msg": "", "data": data})


def error(status: int, code: str, msg: str, headers: dict[str, str] | None = None) -> Reply:
    """Return OKX's error body with a non-zero code."""
    return Reply({"code": code, "msg": msg, "data": []}, status, headers or {})


def rate_limited(retry_after: int) -> Reply:
    """Return OKX's 'Too Many Requests' (code 50011) with status 429."""
    return error(429, "50011", "Too Many Requests", {"Retry-After": str(retry_after)})


def banned(retry_after: int) -> Reply:
    """Return a bare 418 (a raw-status test: OKX itself answers 429 or 403), which ccxt maps by status."""
    return Reply("418 I'm a teapot: IP banned", 418, {"Retry-After": str(retry_after)}, "text/plain")


def bad_request(msg: str) -> Reply:
    """Return OKX's parameter error (code 51000, HTTP 400)."""
    return error(400, "51000", msg)


def _coin(query: Mapping[str, str]) -> Coin:
    """Resolve `instId` or answer OKX's 'Instrument ID does not exist'."""
    coin = BY_OKX_ID.get(query.get("instId", "").upper())
    if coin is None:
        raise VenueError(error(200, "51001", f"Instrument ID {query.get('instId', '')} does not exist."))
    return coin


def _contracts(coin: Coin, base_amount: float) -> str:
    """Convert a base amount to OKX contracts, two decimals."""
    return f"{base_amount / float(coin.okx_ct_val):.2f}"


def _instrument(coin: Coin) -> dict[str, Any]:
    """Describe one SWAP as /public/instruments does."""
    return {
        "instType": "SWAP",
        "instId": coin.okx_id,
        "uly": f"{coin.base}-USDT",
        "instFamily": f"{coin.base}-USDT",
        "baseCcy": "",
        "quoteCcy": "",
        "settleCcy": "USDT",
        "ctVal": coin.okx_ct_val,
        "ctMult": "1",
        "ctValCcy": coin.base,
        "ctType": "linear",
        "lever": str(coin.max_leverage),
        "tickSz": coin.tick,
        "lotSz": "0.01",
        "minSz": "0.01",
        "maxLmtSz": "100000000",
        "maxMktSz": "12000",
        "state": "live",
        "listTime": "1611916828000",
        "expTime": "",
        "alias": "",
        "optType": "",
        "stk": "",
    }


def instruments(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/public/instruments: the SWAPs; SPOT, FUTURES and OPTION are empty."""
    kind = query.get("instType", "")
    if kind not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise VenueError(error(400, "51000", f"Parameter instType error: {kind!r}"))
    return envelope([_instrument(c) for c in COINS] if kind == "SWAP" else [])


def ticker_entry(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build one SWAP ticker entry."""
    opening, high, low, last = ctx.model.stats_24h(NAME, coin, ctx.now)
    (bid, bid_size), (ask, ask_size) = (side[0] for side in book_levels(ctx, coin, 1))
    volume = ctx.model.daily_volume(NAME, coin, ctx.now)
    return {
        "instType": "SWAP",
        "instId": coin.okx_id,
        "last": fmt(last, coin.tick),
        "lastSz": "1",
        "askPx": fmt(ask, coin.tick),
        "askSz": _contracts(coin, ask_size),
        "bidPx": fmt(bid, coin.tick),
        "bidSz": _contracts(coin, bid_size),
        "open24h": fmt(opening, coin.tick),
        "high24h": fmt(high, coin.tick),
        "low24h": fmt(low, coin.tick),
        "volCcy24h": fmt(volume, coin.qty_step),
        "vol24h": _contracts(coin, volume),
        "sodUtc0": fmt(opening, coin.tick),
        "sodUtc8": fmt(opening, coin.tick),
        "ts": str(ctx.now_ms),
    }


def ticker(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/market/ticker."""
    return envelope([ticker_entry(ctx, _coin(query))])


def tickers(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/market/tickers?instType=SWAP."""
    return envelope([ticker_entry(ctx, c) for c in COINS] if query.get("instType") == "SWAP" else [])


def books(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/market/books: [price, contracts, "0", orders] levels."""
    coin = _coin(query)
    bids, asks = book_levels(ctx, coin, int_param(query, "sz", 1, high=5000))
    side = [[fmt(p, coin.tick), _contracts(coin, q), "0", str(1 + int(q * 13) % 40)] for p, q in bids]
    other = [[fmt(p, coin.tick), _contracts(coin, q), "0", str(1 + int(q * 17) % 40)] for p, q in asks]
    return envelope([{"asks": other, "bids": side, "ts": str(ctx.now_ms)}])


def candles_endpoint(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/market/candles and history-candles: newest first, 9 strings each."""
    coin = _coin(query)
    step = interval_seconds(query.get("bar", "1m"))
    limit = int_param(query, "limit", 100, high=300)
    after, before = opt_int(query, "after"), opt_int(query, "before")  # both exclusive, ms
    start = None if before is None else before + 1
    end = None if after is None else after - 1
    starts = window(ctx.now, step, limit, start, end, newest=True)
    bars = candles(ctx, coin, step, starts)
    rows = []
    for b in bars:
        confirmed = "1" if b.start_ms + step * 1000 <= ctx.now_ms else "0"
        rows.append(
            [
                str(b.start_ms),
                fmt(b.open, coin.tick),
                fmt(b.high, coin.tick),
                fmt(b.low, coin.tick),
                fmt(b.close, coin.tick),
                _contracts(coin, b.volume),
                fmt(b.volume, coin.qty_step),
                f"{b.volume * b.close:.2f}",
                confirmed,
            ]
        )
    return envelope(rows[::-1])


def open_interest(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/public/open-interest: oi in contracts, oiCcy in base units, oiUsd."""
    coins = [_coin(query)] if query.get("instId") else list(COINS)
    rows = []
    for coin in coins:
        oi = ctx.model.open_interest(NAME, coin, ctx.now)
        usd = oi * ctx.model.price(NAME, coin, ctx.now)
        rows.append(
            {
                "instType": "SWAP",
                "instId": coin.okx_id,
                "oi": _contracts(coin, oi),
                "oiCcy": fmt(oi, coin.qty_step),
                "oiUsd": f"{usd:.2f}",
                "ts": str(ctx.now_ms),
            }
        )
    return envelope(rows)


def long_short_ratio(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/rubik/stat/contracts/long-short-account-ratio-contract: [ts, ratio], newest first."""
    coin = _coin(query)
    step = interval_seconds(query.get("period", "5m"))
    limit = int_param(query, "limit", 100, high=100)
    begin, end = opt_int(query, "begin"), opt_int(query, "end")
    first, last = None if begin is None else begin + 1, None if end is None else end - 1
    starts = window(ctx.now, step, limit, first, last, newest=True)
    rows = [[str(s * 1000), f"{ctx.model.long_short_ratio(NAME, coin, s):.2f}"] for s in starts]
    return envelope(rows[::-1])


def server_time(ctx: Ctx, query: Mapping[str, str]) -> Reply:
    """GET /api/v5/public/time."""
    return envelope([{"ts": str(ctx.now_ms)}])


ROUTES = {
    "/api/v5/public/time": server_time,
    "/api/v5/public/instruments": instruments,
    "/api/v5/market/ticker": ticker,
    "/api/v5/market/tickers": tickers,
    "/api/v5/market/books": books,
    "/api/v5/market/candles": candles_endpoint,
    "/api/v5/market/history-candles": candles_endpoint,
    "/api/v5/public/open-interest": open_interest,
    "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract": long_short_ratio,
}
