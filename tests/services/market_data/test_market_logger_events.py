"""MarketLogger events from real work: ccxt against the simulator, numpy indicators, the cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import ccxt
import numpy as np
import pytest

from crypto_observability.shared.testing import capture_logs, validate_record
from services.exchange_simulator import VENUES, FakeClock, SimulatorServer
from services.exchange_simulator.client import make_exchange
from services.market_data.market_logger import MarketLogger

BTC = "BTC/USDT:USDT"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    """A live exchange simulator on a free loopback port, on a fake clock."""
    async with SimulatorServer(clock=FakeClock(1_764_000_123.5)) as server:
        yield server


@pytest.fixture
def logs() -> Any:
    """Capture every record of the test at DEBUG."""
    with capture_logs("DEBUG") as captured:
        yield captured


@pytest.fixture
async def exchanges(sim: SimulatorServer, logs: Any) -> AsyncIterator[tuple[MarketLogger, dict[str, Any]]]:
    """A MarketLogger and the three simulated venues wrapped by it."""
    mlog = MarketLogger()
    raw = {v: make_exchange(v, sim.base_url, enableRateLimit=False, timeout=3000) for v in VENUES}
    yield mlog, {v: mlog.wrap_exchange(ex) for v, ex in raw.items()}
    for ex in raw.values():
        await ex.close()


async def _oi_usd(exchange: Any) -> float:
    oi, ticker = await asyncio.gather(exchange.fetch_open_interest(BTC), exchange.fetch_ticker(BTC))
    return oi["openInterestValue"] or oi["openInterestAmount"] * ticker["last"]


async def test_oi_aggregation_is_partial_when_one_exchange_is_rate_limited(sim, exchanges, logs):
    """A 429 on one venue gives a partial oi_aggregation naming it, with the others' sum, at WARNING."""
    mlog, wrapped = exchanges
    for ex in wrapped.values():
        await ex.load_markets()
    sim.inject("bybit", "rate_limit", retry_after=2)
    results = await asyncio.gather(*(_oi_usd(ex) for ex in wrapped.values()), return_exceptions=True)
    answered = {v: r for v, r in zip(wrapped, results, strict=True) if not isinstance(r, BaseException)}
    failed = [v for v, r in zip(wrapped, results, strict=True) if isinstance(r, BaseException)]
    assert isinstance(dict(zip(wrapped, results, strict=True))["bybit"], ccxt.RateLimitExceeded)
    mlog.oi_aggregation("BTC-USDT", answered, failed, response_time_ms=12.5)
    [record] = logs.find(event="oi_aggregation")
    ctx = record["context"]
    assert record["level"] == "WARNING"
    assert (ctx["exchanges_count"], ctx["exchanges_answered"], ctx["exchanges_failed"]) == (3, 2, ["bybit"])
    assert (ctx["success"], ctx["partial"]) == (True, True)
    assert ctx["total_oi_usd"] == pytest.approx(sum(answered.values()), rel=1e-9)
    assert set(ctx["per_exchange"]) == {"binanceusdm", "okx"} and ctx["total_oi_usd"] > 1e9
    assert logs.find(event="rate_limit_hit", exchange="bybit")
    for r in logs.records:
        validate_record(r)


def test_oi_aggregation_levels_follow_the_outcome(logs):
    """All answered is INFO and not partial; none answered is ERROR with success false."""
    mlog = MarketLogger()
    mlog.oi_aggregation("ETH-USDT", {"okx": 1.0, "bybit": 2.0}, [], 3.0)
    mlog.oi_aggregation("ETH-USDT", {}, ["okx", "bybit"], 3.0)
    full, none = logs.find(event="oi_aggregation")
    assert (full["level"], full["context"]["partial"], full["context"]["total_oi_usd"]) == ("INFO", False, 3.0)
    assert (none["level"], none["context"]["success"], none["context"]["partial"]) == ("ERROR", False, False)


async def test_volume_analysis_sums_real_ticker_volumes(exchanges, logs):
    """volume_analysis totals each venue's 24h quote volume from real tickers."""
    mlog, wrapped = exchanges
    tickers = {v: await ex.fetch_ticker(BTC) for v, ex in wrapped.items()}
    volumes = {v: t["quoteVolume"] or t["baseVolume"] * t["last"] for v, t in tickers.items()}
    mlog.volume_analysis("BTC-USDT", volumes, response_time_ms=8.0)
    [record] = logs.find(event="volume_analysis")
    assert record["context"]["exchanges_count"] == 3
    assert record["context"]["total_volume_usd"] == pytest.approx(sum(volumes.values()), rel=1e-9)
    assert record["context"]["response_time_ms"] == 8.0


async def test_indicator_timing_over_real_candles(exchanges, logs):
    """time_indicator logs indicator_calculated with candles and a duration; an error logs success false."""
    mlog, wrapped = exchanges
    candles = await wrapped["okx"].fetch_ohlcv(BTC, "1h", limit=50)
    closes = np.array([c[4] for c in candles])
    with mlog.time_indicator("BTC-USDT", "ema", "1h", len(candles)):
        alpha, ema = 2 / 21, closes[0]
        for price in closes[1:]:
            ema = alpha * price + (1 - alpha) * ema
    with pytest.raises(ZeroDivisionError), mlog.time_indicator("BTC-USDT", "rsi", "1h", 0):
        _ = 1 / 0
    ok, bad = logs.find(event="indicator_calculated")
    assert (ok["context"]["indicator"], ok["context"]["candles"], ok["context"]["success"]) == ("ema", 50, True)
    assert ok["context"]["response_time_ms"] >= 0.0
    assert (bad["context"]["indicator"], bad["context"]["success"], bad["level"]) == ("rsi", False, "WARNING")
    assert logs.find(event="exchange_api_call", method="fetch_ohlcv")[0]["context"]["success"] is True


async def test_long_short_fetch_success_and_failure(sim, exchanges, logs):
    """A real long/short ratio fetch logs its ratio; a 5xx logs success false with error_type unavailable."""
    mlog, wrapped = exchanges
    history = await wrapped["binanceusdm"].fetch_long_short_ratio_history(BTC, "5m", limit=1)
    ratio = history[-1]["longShortRatio"]
    mlog.long_short_fetch("BTC-USDT", "binanceusdm", ratio, 4.2)
    sim.inject("binanceusdm", "server_error")
    with pytest.raises(ccxt.ExchangeNotAvailable) as caught:
        await wrapped["binanceusdm"].fetch_long_short_ratio_history(BTC, "5m", limit=1)
    mlog.long_short_fetch("BTC-USDT", "binanceusdm", None, 3.0, error=caught.value)
    ok, bad = logs.find(event="long_short_fetch")
    assert (ok["context"]["ratio"], ok["context"]["success"]) == (ratio, True) and ratio > 0
    assert (bad["context"]["success"], bad["context"]["error_type"], bad["error"]["category"]) == (
        False, "unavailable", "unavailable")


def test_cache_operations_and_manual_exchange_calls(logs):
    """cache_operation carries operation, key, hit (and ttl_s); exchange_api_call can be logged by hand."""
    mlog = MarketLogger()
    mlog.cache_operation("get", "price:BTC-USDT", hit=False)
    mlog.cache_operation("set", "price:BTC-USDT", hit=False, ttl_s=5.0)
    mlog.exchange_api_call("okx", "fetch_ticker", "BTC/USDT:USDT", 12.0, ccxt.RequestTimeout("slow"))
    get, put = logs.find(event="cache_operation")
    assert get["context"] == {"operation": "get", "key": "price:BTC-USDT", "hit": False}
    assert put["context"]["ttl_s"] == 5.0
    [call] = logs.find(event="exchange_api_call")
    assert (call["context"]["error_type"], call["context"]["success"]) == ("timeout", False)
    assert mlog.exchange_logger.metrics("okx")["calls"] == 1
    for r in logs.records:
        validate_record(r)
