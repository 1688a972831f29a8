"""Deterministic, seeded market: prices, candles, volume, open interest and ratios as pure functions of time.

Every quantity is computed from (seed, coin, venue, time) alone, so two servers with one seed and one
clock answer identically and a test can step the clock and know what it will see. The fair price is
a multi-scale value-noise walk (octaves from 1 s to ~12 days, amplitudes growing with the square root
of the scale, as a Brownian walk's do); each venue adds a small steady basis and its own jitter.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from .instruments import PROFILES, VENUES, Coin

_MASK = (1 << 64) - 1
_SECONDS_PER_YEAR = 365.0 * 86_400.0
_OCTAVES = 21  # 2**20 s is about 12 days: the slowest swing of the walk
_WALK_GAIN = 0.8  # calibrates the summed octaves to the coin's annual volatility


def _mix(x: int) -> int:
    """Scramble 64 bits (splitmix64's finaliser)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _uniform(key: int, index: int) -> float:
    """Return a reproducible value in [-1, 1] for a lattice point."""
    return _mix(key ^ ((index * 0xD1342543DE82EF95) & _MASK)) / _MASK * 2.0 - 1.0


def _key(seed: int, *parts: str) -> int:
    """Derive a 64-bit stream key from the seed and names."""
    return _mix(seed ^ zlib.crc32("/".join(parts).encode()) << 16)


def _octave(key: int, x: float) -> float:
    """Smoothly interpolate value noise at position x (lattice spacing 1)."""
    i = math.floor(x)
    f = x - i
    f = f * f * (3.0 - 2.0 * f)
    a = _uniform(key, i)
    return a + (_uniform(key, i + 1) - a) * f


def _slow(key: int, t: float, period: float) -> float:
    """Return a smooth wander in about [-1, 1] whose main swings last `period` seconds."""
    return (
        0.6 * _octave(key, t / period)
        + 0.3 * _octave(key + 1, 4 * t / period)
        + 0.1 * _octave(key + 2, 16 * t / period)
    )


@dataclass(frozen=True)
class Candle:
    """One OHLCV bar in venue prices and base-unit volume."""

    start_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class MarketModel:
    """Prices and activity for every (venue, coin) at any time, reproducible from a seed."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed

    def fair(self, coin: Coin, t: float) -> float:
        """Return the fair (venue-independent) price of a coin at time t (epoch seconds)."""
        key = _key(self.seed, coin.base, "walk")
        sigma = coin.annual_vol / math.sqrt(_SECONDS_PER_YEAR) * _WALK_GAIN
        total = 0.0
        for k in range(_OCTAVES):
            scale = float(1 << k)
            total += sigma * math.sqrt(scale) * _octave(key + k, t / scale)
        return coin.price * math.exp(total)

    def price(self, venue: str, coin: Coin, t: float) -> float:
        """Return the venue's mid price: fair price plus the venue's basis and jitter."""
        profile = PROFILES[venue]
        key = _key(self.seed, coin.base, venue, "jitter")
        jitter = _octave(key, t / 3.0) * 0.6 + _octave(key + 1, t / 40.0) * 0.4
        return self.fair(coin, t) * (1.0 + profile.basis + profile.jitter * jitter)

    def candle(self, venue: str, coin: Coin, start_s: float, seconds: float) -> Candle:
        """Return the bar that starts at start_s and lasts `seconds`, sampled along the walk."""
        samples = [self.price(venue, coin, start_s + seconds * i / 4.0) for i in range(5)]
        opening, closing = samples[0], samples[-1]
        move = abs(closing / opening - 1.0)
        key = _key(self.seed, coin.base, venue, "candle-volume")
        busy = 0.55 + 0.45 * (1.0 + _uniform(key, int(start_s // max(seconds, 1.0))))
        volume = (
            self.daily_volume(venue, coin, start_s) * seconds / 86_400.0 * busy * (1.0 + min(move * 150, 2))
        )
        return Candle(int(start_s * 1000), opening, max(samples), min(samples), closing, volume)

    def stats_24h(self, venue: str, coin: Coin, t: float) -> tuple[float, float, float, float]:
        """Return (open, high, low, last) over the 24 hours ending at t."""
        samples = [self.price(venue, coin, t - 86_400.0 + 1_800.0 * i) for i in range(49)]
        return samples[0], max(samples), min(samples), samples[-1]

    def daily_volume(self, venue: str, coin: Coin, t: float) -> float:
        """Return the rolling 24h volume in base units, wandering ±25% over hours."""
        key = _key(self.seed, coin.base, venue, "volume")
        return coin.daily_volume * PROFILES[venue].share * (1.0 + 0.25 * _slow(key, t, 6 * 3_600.0))

    def open_interest(self, venue: str, coin: Coin, t: float) -> float:
        """Return open interest in base units, wandering ±6% over hours."""
        key = _key(self.seed, coin.base, venue, "oi")
        return coin.open_interest * PROFILES[venue].share * (1.0 + 0.06 * _slow(key, t, 4 * 3_600.0))

    def long_short_ratio(self, venue: str, coin: Coin, t: float) -> float:
        """Return the accounts long/short ratio, around 1.0 to 2.5 as retail positioning tends to be."""
        key = _key(self.seed, coin.base, "ratio")
        own = _key(self.seed, coin.base, venue, "ratio")
        level = 1.45 * math.exp(0.35 * _slow(key, t, 12 * 3_600.0) + 0.05 * _slow(own, t, 3_600.0))
        return level * PROFILES[venue].ratio_bias

    def book(
        self, venue: str, coin: Coin, t: float, depth: int, tick: float
    ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """Return (bids, asks) as (price, base amount) levels, best first, one tick apart or more."""
        mid = self.price(venue, coin, t)
        half = max(tick, mid * 0.00002)
        best_bid = math.floor((mid - half / 2) / tick) * tick
        best_ask = best_bid + max(tick, math.ceil(half / tick) * tick)
        key = _key(self.seed, coin.base, venue, "book")
        stamp = int(t * 4)  # sizes refresh four times a second
        unit = coin.daily_volume * PROFILES[venue].share / 2_000_000.0
        bids, asks = [], []
        for i in range(depth):
            gap = i * tick * (1 + i // 10)
            size_bid = unit * (1.0 + i * 0.15) * (1.2 + _uniform(key, stamp * 1000 + 2 * i))
            size_ask = unit * (1.0 + i * 0.15) * (1.2 + _uniform(key, stamp * 1000 + 2 * i + 1))
            bids.append((best_bid - gap, size_bid))
            asks.append((best_ask + gap, size_ask))
        return bids, asks

    def spread_report(self, coin: Coin, t: float) -> dict[str, float]:
        """Return each venue's price at t, for docs and sanity checks."""
        return {venue: self.price(venue, coin, t) for venue in VENUES}
