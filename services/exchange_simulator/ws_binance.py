"""Binance USDⓈ-M market streams over WebSocket (what ccxt.pro `binanceusdm.watch_ticker` uses).

A client connects to /fstream.binance.com/<category>/ws/<n>, sends
{"method": "SUBSCRIBE", "params": ["btcusdt@ticker"], "id": 1}, gets {"result": null, "id": 1},
then an event for each stream at once and every `interval` seconds after.
Streams: <pair>@ticker, <pair>@miniTicker, <pair>@bookTicker, <pair>@markPrice[@1s],
!ticker@arr, !miniTicker@arr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .instruments import BY_PAIR, COINS, Coin, fmt
from .venue_base import Ctx, book_levels
from .venue_binance import NAME
from .ws_feed import Feed


def _mini(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build a 24hrMiniTicker event."""
    opening, high, low, last = ctx.model.stats_24h(NAME, coin, ctx.now)
    volume = ctx.model.daily_volume(NAME, coin, ctx.now)
    return {
        "e": "24hrMiniTicker",
        "E": ctx.now_ms,
        "s": coin.pair,
        "c": fmt(last, coin.tick),
        "o": fmt(opening, coin.tick),
        "h": fmt(high, coin.tick),
        "l": fmt(low, coin.tick),
        "v": fmt(volume, coin.qty_step),
        "q": f"{volume * last:.2f}",
    }


def _full(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build a 24hrTicker event (the mini ticker plus change, vwap and trade ids)."""
    event = _mini(ctx, coin)
    last, opening = float(event["c"]), float(event["o"])
    event.update(
        {
            "e": "24hrTicker",
            "p": fmt(last - opening, coin.tick),
            "P": f"{(last / opening - 1) * 100:.3f}",
            "w": event["c"],
            "Q": coin.qty_step,
            "O": ctx.now_ms - 86_400_000,
            "C": ctx.now_ms,
            "F": 5_000_000_000,
            "L": 5_000_100_000,
            "n": 100_000,
        }
    )
    return event


def _book_ticker(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build a bookTicker event (best bid and ask)."""
    (bid, bid_qty), (ask, ask_qty) = (side[0] for side in book_levels(ctx, coin, 1))
    return {
        "e": "bookTicker",
        "u": ctx.now_ms,
        "E": ctx.now_ms,
        "T": ctx.now_ms,
        "s": coin.pair,
        "b": fmt(bid, coin.tick),
        "B": fmt(bid_qty, coin.qty_step),
        "a": fmt(ask, coin.tick),
        "A": fmt(ask_qty, coin.qty_step),
    }


def _mark(ctx: Ctx, coin: Coin) -> dict[str, Any]:
    """Build a markPriceUpdate event."""
    price = ctx.model.price(NAME, coin, ctx.now)
    return {
        "e": "markPriceUpdate",
        "E": ctx.now_ms,
        "s": coin.pair,
        "p": fmt(price, coin.tick),
        "i": fmt(price * 0.9999, coin.tick),
        "P": fmt(price, coin.tick),
        "r": "0.00010000",
        "T": (ctx.now_ms // 28_800_000 + 1) * 28_800_000,
    }


_BUILDERS: dict[str, Callable[[Ctx, Coin], dict[str, Any]]] = {
    "ticker": _full,
    "miniTicker": _mini,
    "bookTicker": _book_ticker,
    "markPrice": _mark,
}


def event_for(stream: str, ctx: Ctx) -> Any:
    """Return the payload for one stream name, or None when the stream is not simulated."""
    if stream.startswith("!") and stream.endswith("@arr"):
        builder = _BUILDERS.get(stream[1:-4])
        return None if builder is None else [builder(ctx, c) for c in COINS]
    pair, _, channel = stream.partition("@")
    coin = BY_PAIR.get(pair.upper())
    builder = _BUILDERS.get(channel.split("@")[0])
    return None if coin is None or builder is None else builder(ctx, coin)


class BinanceFeed(Feed):
    """Binance's SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS protocol."""

    def event(self, stream: str, ctx: Ctx) -> Any:
        """Return the Binance event for a stream name."""
        return event_for(stream, ctx)

    async def on_message(self, text: str) -> None:
        """Handle SUBSCRIBE, UNSUBSCRIBE and LIST_SUBSCRIPTIONS requests."""
        try:
            request = orjson.loads(text)
            method, params, rid = request.get("method"), list(request.get("params") or []), request.get("id")
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            await self.send({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        if method == "SUBSCRIBE":
            fresh = [s for s in params if s not in self.streams]
            self.streams.extend(fresh)
            await self.send({"result": None, "id": rid})
            await self.push(fresh)
        elif method == "UNSUBSCRIBE":
            self.streams = [s for s in self.streams if s not in params]
            await self.send({"result": None, "id": rid})
        elif method == "LIST_SUBSCRIPTIONS":
            await self.send({"result": self.streams, "id": rid})
        else:
            await self.send({"error": {"code": 2, "msg": f"Invalid request: {method}"}, "id": rid})
