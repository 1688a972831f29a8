"""Prices are seeded, move with the injected clock, look like a market, and differ a little across venues."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.exchange_simulator import COINS, VENUES, MarketModel, SimulatorServer
from services.exchange_simulator.venue_base import interval_seconds, window

T0 = 1_764_000_123.5
times = st.floats(T0 - 365 * 86_400, T0 + 365 * 86_400)
coins = st.sampled_from(COINS)


def test_same_seed_same_prices_other_seed_other_prices():
    """Two models with one seed agree exactly; another seed gives another path."""
    a, b, c = MarketModel(7), MarketModel(7), MarketModel(8)
    btc = COINS[0]
    assert [a.price("okx", btc, T0 + i) for i in range(5)] == [b.price("okx", btc, T0 + i) for i in range(5)]
    assert a.price("okx", btc, T0) != c.price("okx", btc, T0)


async def test_prices_move_with_the_clock_and_repeat(connect, clock):
    """Advancing the fake clock moves the ticker; returning to a time gives the same price again."""
    exchange = connect("binanceusdm")
    first = (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"]
    clock.advance(300)
    later = (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"]
    clock.advance(-300)
    again = (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"]
    assert first != later
    assert first == again
    assert abs(later / first - 1) < 0.02  # five minutes is a small move


async def test_two_servers_with_one_seed_serve_identical_data(clock, connect):
    """Another simulator with the same seed and clock serves the same ticker as the fixture's one."""
    async with SimulatorServer(clock=clock) as other:
        from services.exchange_simulator.client import make_exchange

        twin = make_exchange("okx", other.base_url, enableRateLimit=False)
        try:
            theirs = await twin.fetch_ticker("SOL/USDT:USDT")
        finally:
            await twin.close()
    ours = await connect("okx").fetch_ticker("SOL/USDT:USDT")
    assert (ours["last"], ours["high"], ours["baseVolume"]) == (theirs["last"], theirs["high"], theirs["baseVolume"])


async def test_cross_exchange_prices_close_but_not_identical(connect):
    """The three venues quote one coin within 0.2% of each other, never all at the same price."""
    lasts = [(await connect(v).fetch_ticker("ETH/USDT:USDT"))["last"] for v in VENUES]
    assert len(set(lasts)) == 3
    assert max(lasts) / min(lasts) - 1 < 0.002


@settings(max_examples=200, deadline=None)
@given(t=times, coin=coins)
def test_venue_spread_stays_small_everywhere(t, coin):
    """At any time the venues' mid prices differ by less than 0.2% and are all positive."""
    model = MarketModel()
    prices = [model.price(v, coin, t) for v in VENUES]
    assert min(prices) > 0
    assert max(prices) / min(prices) - 1 < 0.002


@settings(max_examples=200, deadline=None)
@given(t=times, coin=coins)
def test_prices_stay_within_a_plausible_band(t, coin):
    """Within a year of the epoch the fair price stays within 0.3x..3x of the coin's reference price."""
    assert 0.3 < MarketModel().fair(coin, t) / coin.price < 3


@settings(max_examples=100, deadline=None)
@given(start=times, seconds=st.sampled_from([60, 300, 3_600, 86_400]), coin=coins, venue=st.sampled_from(VENUES))
def test_candles_are_internally_consistent(start, seconds, coin, venue):
    """Every candle's high and low bound its open and close, and its volume is positive."""
    bar = MarketModel().candle(venue, coin, start, seconds)
    assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    assert bar.volume > 0


@pytest.mark.parametrize("coin", COINS, ids=lambda c: c.base)
def test_daily_volatility_matches_the_coin(coin):
    """Daily log returns over 90 days have a spread within a factor of two of the coin's annual volatility."""
    model = MarketModel()
    closes = [model.fair(coin, T0 + 86_400 * d) for d in range(91)]
    spread = statistics.pstdev(math.log(b / a) for a, b in itertools.pairwise(closes))
    target = coin.annual_vol / math.sqrt(365)
    assert target / 2 < spread < target * 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m", 60), ("5m", 300), ("1h", 3_600), ("1H", 3_600), ("4H", 14_400), ("1d", 86_400), ("1Dutc", 86_400),
     ("6Hutc", 21_600), ("60", 3_600), ("D", 86_400), ("W", 604_800), ("5min", 300), ("1M", 2_592_000)],
)
def test_interval_spellings_of_all_three_venues(text, seconds):
    """Intervals parse as Binance (1m, 1h), Bybit (60, D, 5min) and OKX (1H, 6Hutc) spell them."""
    assert interval_seconds(text) == seconds


@given(st.text(max_size=6))
def test_interval_parsing_rejects_with_value_error_only(text):
    """Arbitrary interval text parses to a positive number of seconds or raises ValueError naming it."""
    try:
        assert interval_seconds(text) > 0
    except ValueError as exc:
        assert repr(text.strip()) in str(exc)


@given(
    now=st.floats(1e9, 2e9),
    step=st.sampled_from([60, 300, 3_600]),
    limit=st.integers(1, 50),
    back=st.one_of(st.none(), st.integers(0, 10**8)),
)
def test_windows_are_aligned_bounded_and_ascending(now, step, limit, back):
    """A window has at most `limit` aligned starts, ascending, none after now, none before its start."""
    start_ms = None if back is None else int(now * 1000) - back
    starts = window(now, step, limit, start_ms)
    assert len(starts) <= limit
    assert all(s % step == 0 and s <= now for s in starts)
    assert starts == sorted(set(starts))
    if start_ms is not None:
        assert all(s * 1000 >= start_ms for s in starts)
