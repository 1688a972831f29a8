"""What every simulated venue shares: the request context, the reply, interval parsing, candle windows."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .instruments import Coin
from .market_model import Candle, MarketModel

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3_600, "d": 86_400, "w": 604_800, "M": 2_592_000}
_INTERVAL = re.compile(r"^(\d+)(s|min|m|h|d|w|M)$")


@dataclass(frozen=True)
class Ctx:
    """One request's view of the market: model, venue, the (possibly stale) time, and the data faults."""

    model: MarketModel
    venue: str
    now: float  # epoch seconds the data describes (already shifted back for a stale fault)
    crossed_ticks: int = 0  # > 0: the book's best bid sits this many ticks above its best ask

    @property
    def now_ms(self) -> int:
        """Return the data time in integer milliseconds."""
        return int(self.now * 1000)


@dataclass
class Reply:
    """A venue's answer: status, a JSON-able body (or raw text), extra headers."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class VenueError(Exception):
    """A request the venue rejects in its own wire format (bad symbol, bad param)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply.body))
        self.reply = reply


Handler = Callable[[Ctx, Mapping[str, str]], Reply]


def interval_seconds(text: str) -> int:
    """Parse an interval as any of the three venues spell it (1m, 1H, 1Dutc, 60, D, 5min)."""
    raw = text.strip().removesuffix("utc")
    if raw in ("D", "W", "M"):  # Bybit
        raw = "1" + raw
    elif raw.isascii() and raw.isdigit():  # Bybit: minutes
        raw += "m"
    if raw[-1:] in ("H", "D", "W"):  # OKX capitals; a capital M stays a month
        raw = raw[:-1] + raw[-1].lower()
    match = _INTERVAL.match(raw) if raw.isascii() else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"unsupported interval {text.strip()!r}; use e.g. 1m, 5m, 1h, 4h, 1d (or 1H, 60, D, 5min)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def window(
    now: float,
    step: int,
    limit: int,
    start_ms: int | None = None,
    end_ms: int | None = None,
    newest: bool = False,
) -> list[int]:
    """Return up to `limit` aligned bucket starts (seconds), oldest first, none after `now`.

    With a start, the buckets from it on (or, with `newest`, the latest ones of [start, end]).
    """
    last = math.floor(min(now, (end_ms / 1000) if end_ms is not None else now) / step) * step
    if start_ms is None:
        return [last - step * i for i in range(limit - 1, -1, -1)]
    first = math.ceil(start_ms / 1000 / step) * step
    count = max(0, min(limit, (last - first) // step + 1))
    if newest:
        first = last - (count - 1) * step
    return [first + step * i for i in range(count)]


def candles(ctx: Ctx, coin: Coin, step: int, starts: list[int]) -> list[Candle]:
    """Return the candles starting at `starts`; one still forming closes at `now`."""
    out = []
    for start in starts:
        span = min(step, ctx.now - start)
        candle = ctx.model.candle(ctx.venue, coin, start, max(span, 1e-3))
        out.append(candle)
    return out


def book_levels(
    ctx: Ctx, coin: Coin, depth: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Return (bids, asks) with the crossed fault applied when it is in force."""
    tick = float(coin.tick)
    bids, asks = ctx.model.book(ctx.venue, coin, ctx.now, depth, tick)
    if ctx.crossed_ticks and bids and asks:
        shift = asks[0][0] - bids[0][0] + ctx.crossed_ticks * tick
        bids = [(price + shift, amount) for price, amount in bids]
    return bids, asks


def int_param(query: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 1_000) -> int:
    """Read an integer query param, clamped to [low, high]."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return max(low, min(high, int(raw)))
    except ValueError:
        raise ValueError(f"query param {name}={raw!r} must be an integer") from None


def opt_int(query: Mapping[str, str], name: str) -> int | None:
    """Read an optional integer query param (a millisecond timestamp)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"query param {name}={raw!r} must be an integer") from None
