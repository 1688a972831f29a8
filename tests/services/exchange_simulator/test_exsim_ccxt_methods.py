"""The real ccxt clients read every market-data method from the simulator, with plausible values."""

from __future__ import annotations

import ccxt
import pytest

from services.exchange_simulator import COINS, VENUES

SYMBOLS = [coin.unified for coin in COINS]


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_load_markets_lists_the_usdt_perpetuals(connect, exchange_id):
    """load_markets yields BTC, ETH, SOL, XRP (and DOGE) USDT-margined swaps."""
    exchange = connect(exchange_id)
    markets = await exchange.load_markets()
    assert sorted(SYMBOLS) == sorted(markets)
    btc = markets["BTC/USDT:USDT"]
    assert (btc["swap"], btc["linear"], btc["settle"]) == (True, True, "USDT")


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_ticker_is_realistic(clock, connect, exchange_id):
    """A ticker carries last, 24h range, volume and a timestamp from the simulator's clock."""
    exchange = connect(exchange_id)
    ticker = await exchange.fetch_ticker("BTC/USDT:USDT")
    assert 50_000 < ticker["last"] < 200_000
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["baseVolume"] > 0
    assert int(clock.now * 1000) == ticker["timestamp"]
    if exchange_id != "binanceusdm":  # Binance's 24hr ticker has no book prices
        assert ticker["bid"] < ticker["ask"]


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_order_book_is_sorted_and_uncrossed(connect, exchange_id):
    """The book has the requested depth, bids descending, asks ascending, best bid below best ask."""
    exchange = connect(exchange_id)
    book = await exchange.fetch_order_book("ETH/USDT:USDT", 20)
    bids, asks = [p for p, *_ in book["bids"]], [p for p, *_ in book["asks"]]
    assert 20 == len(bids) == len(asks)
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    assert all(amount > 0 for _, amount, *_ in book["bids"] + book["asks"])


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_ohlcv_gives_aligned_consistent_candles(clock, connect, exchange_id):
    """Candles are one interval apart, end at the forming one, and high/low bound open/close."""
    exchange = connect(exchange_id)
    candles = await exchange.fetch_ohlcv("SOL/USDT:USDT", "5m", limit=12)
    assert len(candles) == 12
    stamps = [c[0] for c in candles]
    assert [stamps[0] + 300_000 * i for i in range(12)] == stamps
    assert stamps[-1] <= clock.now * 1000 < stamps[-1] + 300_000
    for _, o, h, low, c, v in candles:
        assert low <= min(o, c) <= max(o, c) <= h
        assert v > 0


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_ohlcv_since_starts_at_since(clock, connect, exchange_id):
    """With `since`, candles start at the first interval boundary at or after it."""
    exchange = connect(exchange_id)
    since = int((clock.now - 3 * 3600) // 3600 * 3600 * 1000)
    candles = await exchange.fetch_ohlcv("BTC/USDT:USDT", "1h", since=since, limit=2)
    assert [since, since + 3_600_000] == [c[0] for c in candles]


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_open_interest_is_positive(clock, connect, exchange_id):
    """Open interest comes back as an amount (and for OKX also a USD value), stamped with the clock."""
    exchange = connect(exchange_id)
    oi = await exchange.fetch_open_interest("XRP/USDT:USDT")
    assert oi["openInterestAmount"] > 0
    assert oi["symbol"] == "XRP/USDT:USDT"
    assert oi["timestamp"] <= clock.now * 1000


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_fetch_long_short_ratio_history(connect, exchange_id):
    """The accounts long/short ratio history has `limit` entries, hourly, in a plausible range."""
    exchange = connect(exchange_id)
    ratios = await exchange.fetch_long_short_ratio_history("BTC/USDT:USDT", "1h", limit=4)
    assert len(ratios) == 4
    stamps = sorted(r["timestamp"] for r in ratios)
    assert [stamps[0] + 3_600_000 * i for i in range(4)] == stamps
    assert all(0.3 < r["longShortRatio"] < 5 for r in ratios)


async def test_binance_open_interest_history(connect):
    """Binance's openInterestHist answers fetch_open_interest_history with amount and value."""
    exchange = connect("binanceusdm")
    history = await exchange.fetch_open_interest_history("ETH/USDT:USDT", "1h", limit=3)
    assert len(history) == 3
    assert all(h["openInterestAmount"] > 0 and h["openInterestValue"] > 0 for h in history)


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_unknown_symbol_is_rejected_in_the_venue_format(sim, connect, exchange_id):
    """A symbol the venue does not list gets the venue's own error body, which ccxt maps to BadRequest."""

    exchange = connect(exchange_id)
    await exchange.load_markets()
    market = dict(exchange.markets["BTC/USDT:USDT"])
    ids = {"binanceusdm": "ADAUSDT", "bybit": "ADAUSDT", "okx": "ADA-USDT-SWAP"}
    market.update(symbol="ADA/USDT:USDT", id=ids[exchange_id], base="ADA", baseId="ADA")
    exchange.markets["ADA/USDT:USDT"] = market
    exchange.markets_by_id[ids[exchange_id]] = [market]
    with pytest.raises(ccxt.BadRequest):
        await exchange.fetch_ticker("ADA/USDT:USDT")
