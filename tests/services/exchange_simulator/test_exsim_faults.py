"""Each injected fault reaches the real ccxt client as the exception (or bad data) it would see live."""

from __future__ import annotations

import time

import ccxt
import pytest

from services.exchange_simulator import VENUES

EXPECTED = [
    ("binanceusdm", "rate_limit", {}, ccxt.DDoSProtection),  # Binance's 429 body (-1003)
    ("bybit", "rate_limit", {}, ccxt.RateLimitExceeded),  # retCode 10006
    ("okx", "rate_limit", {}, ccxt.RateLimitExceeded),  # code 50011
    *[(venue, "ip_ban", {}, ccxt.DDoSProtection) for venue in VENUES],
    *[(venue, "server_error", {}, ccxt.ExchangeNotAvailable) for venue in VENUES],
    ("binanceusdm", "server_error", {"status": 500}, ccxt.ExchangeNotAvailable),
    ("okx", "server_error", {"status": 502}, ccxt.ExchangeNotAvailable),
    ("bybit", "server_error", {"status": 504}, ccxt.RequestTimeout),
    *[(venue, "timeout", {}, ccxt.RequestTimeout) for venue in VENUES],
]


@pytest.mark.parametrize(("exchange_id", "kind", "params", "error"), EXPECTED)
async def test_fault_raises_the_ccxt_exception(sim, connect, exchange_id, kind, params, error):
    """A transport fault makes fetch_ticker raise the exception class ccxt maps it to."""
    exchange = connect(exchange_id, timeout=300)
    await exchange.load_markets()
    sim.inject(exchange_id, kind, **params)
    with pytest.raises(error):
        await exchange.fetch_ticker("BTC/USDT:USDT")


@pytest.mark.parametrize(("exchange_id", "kind"), [(v, k) for v in VENUES for k in ("rate_limit", "ip_ban")])
async def test_rate_limit_answers_carry_retry_after(sim, connect, exchange_id, kind):
    """429 and 418 answers carry the fault's Retry-After, visible to the client in last_response_headers."""
    exchange = connect(exchange_id)
    await exchange.load_markets()
    sim.inject(exchange_id, kind, retry_after=42)
    with pytest.raises(ccxt.NetworkError):
        await exchange.fetch_order_book("BTC/USDT:USDT")
    assert exchange.last_response_headers["Retry-After"] == "42"


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_html_200_gives_an_empty_ticker_without_exception(sim, connect, exchange_id):
    """An HTML page served with status 200 makes ccxt return last=None and timestamp=None, raising nothing."""
    exchange = connect(exchange_id)
    await exchange.load_markets()
    sim.inject(exchange_id, "html")
    ticker = await exchange.fetch_ticker("BTC/USDT:USDT")
    assert (ticker["last"], ticker["timestamp"]) == (None, None)


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_stale_fault_serves_old_timestamps(sim, clock, connect, exchange_id):
    """A stale fault serves data and timestamps `age_s` seconds old."""
    exchange = connect(exchange_id)
    await exchange.load_markets()
    sim.inject(exchange_id, "stale", age_s=600)
    ticker = await exchange.fetch_ticker("BTC/USDT:USDT")
    assert ticker["timestamp"] == int((clock.now - 600) * 1000)


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_crossed_fault_puts_best_bid_above_best_ask(sim, connect, exchange_id):
    """A crossed fault makes the book's best bid exceed its best ask by `ticks` ticks."""
    exchange = connect(exchange_id)
    await exchange.load_markets()
    sim.inject(exchange_id, "crossed", ticks=4)
    book = await exchange.fetch_order_book("BTC/USDT:USDT", 5)
    tick = exchange.markets["BTC/USDT:USDT"]["precision"]["price"]
    assert book["bids"][0][0] - book["asks"][0][0] == pytest.approx(4 * tick)


async def test_latency_delays_the_answer(sim, connect):
    """A latency fault delays each answer by `ms` milliseconds, and the call still succeeds."""
    exchange = connect("okx")
    await exchange.load_markets()
    sim.inject("okx", "latency", ms=120)
    started = time.perf_counter()
    ticker = await exchange.fetch_ticker("ETH/USDT:USDT")
    assert time.perf_counter() - started >= 0.12
    assert ticker["last"] > 0


async def test_fault_is_per_exchange(sim, connect):
    """A fault on one exchange leaves the others answering."""
    binance, bybit = connect("binanceusdm"), connect("bybit")
    await binance.load_markets()
    await bybit.load_markets()
    sim.inject("binanceusdm", "503")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await binance.fetch_ticker("BTC/USDT:USDT")
    assert (await bybit.fetch_ticker("BTC/USDT:USDT"))["last"] > 0


async def test_star_fault_hits_every_exchange(sim, connect):
    """exchange='*' applies a fault to all venues."""
    sim.inject("*", "ip_ban")
    for exchange_id in VENUES:
        with pytest.raises(ccxt.DDoSProtection):
            await connect(exchange_id).load_markets()


async def test_path_filter_limits_a_fault_to_one_endpoint(sim, connect):
    """A fault with `path` fires only for requests whose path contains it."""
    exchange = connect("binanceusdm")
    await exchange.load_markets()
    sim.inject("binanceusdm", "rate_limit", path="/fapi/v1/depth")
    assert (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"] > 0
    with pytest.raises(ccxt.DDoSProtection):
        await exchange.fetch_order_book("BTC/USDT:USDT")


async def test_duration_expires_with_the_clock(sim, clock, connect):
    """A fault with duration_s stops firing once the injected clock passes its expiry."""
    exchange = connect("bybit")
    await exchange.load_markets()
    sim.inject("bybit", "server_error", duration_s=30)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_ticker("BTC/USDT:USDT")
    clock.advance(31)
    assert (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"] > 0
    assert sim.state()["faults"] == []


async def test_probability_fails_some_requests_reproducibly(sim, connect):
    """probability=0.5 fails part of the requests; the seeded dice make the pattern repeatable."""
    exchange = connect("okx")
    await exchange.load_markets()
    sim.inject("okx", "503", probability=0.5)
    outcomes = []
    for _ in range(30):
        try:
            await exchange.fetch_ticker("BTC/USDT:USDT")
            outcomes.append(True)
        except ccxt.ExchangeNotAvailable:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 25
    assert sim.state()["faults"][0]["hits"] == outcomes.count(False)


async def test_clear_restores_service(sim, connect):
    """clear() removes the faults and the next call succeeds."""
    exchange = connect("binanceusdm")
    await exchange.load_markets()
    sim.inject("binanceusdm", "timeout", seconds=5)
    sim.clear()
    assert (await exchange.fetch_ticker("BTC/USDT:USDT"))["last"] > 0


async def test_server_keeps_serving_after_a_client_timeout(sim, connect):
    """A request abandoned by a timing-out client does not block the server or the next client."""
    slow = connect("okx", timeout=200)
    await slow.load_markets()
    sim.inject("okx", "timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await slow.fetch_ticker("BTC/USDT:USDT")
    sim.clear("okx")
    assert (await connect("okx").fetch_ticker("BTC/USDT:USDT"))["last"] > 0
