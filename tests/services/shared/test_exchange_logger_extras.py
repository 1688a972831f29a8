"""ExchangeLogger beyond single calls: rolling metrics, WebSocket events, cross-exchange checks, ccxt's output."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from crypto_observability.shared.exchange_logger import ExchangeLogger
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs, validate_record
from services.exchange_simulator.client import make_exchange

BTC = "BTC/USDT:USDT"


def _xlog(clock: Any, **options: Any) -> ExchangeLogger:
    return ExchangeLogger(create_structured_logger("market-data", "exchange"), clock=clock, **options)


def test_metrics_percentiles_window_and_rate_limits(clock, logs):
    """Figures cover the last N calls within M seconds; p50/p95 interpolate; rate limits are counted."""
    xlog = _xlog(clock, metrics_calls=20, metrics_window_s=60)
    for ms in range(1, 11):  # 1..10 ms, all fine
        xlog.record_call("okx", "fetch_ticker", BTC, float(ms))
    xlog.record_call("okx", "fetch_ticker", BTC, 50.0, ccxt.RateLimitExceeded("slow down"))
    figures = xlog.metrics("okx")
    assert (figures["calls"], figures["error_count"], figures["rate_limit_count"]) == (11, 1, 1)
    assert figures["success_rate"] == round(10 / 11, 4)
    assert (figures["p50_ms"], figures["p95_ms"]) == (6.0, 30.0)
    assert figures["errors_by_type"] == {"rate_limit": 1}
    clock.advance(61)
    assert xlog.metrics("okx")["calls"] == 0 and xlog.metrics("okx")["p95_ms"] is None
    for _ in range(30):
        xlog.record_call("bybit", "fetch_ticker", BTC, 2.0)
    assert xlog.snapshot()["bybit"]["calls"] == 20
    xlog.log_metrics()
    [bybit] = logs.find(event="exchange_metrics", exchange="bybit")
    assert (bybit["context"]["success_rate"], bybit["context"]["p50_ms"]) == (1.0, 2.0)


async def test_metrics_from_real_calls_against_a_rate_limited_venue(sim, clock, logs):
    """Three good calls and one 429 through the wrapper give success_rate 0.75 and one rate limit."""
    xlog = _xlog(clock)
    exchange = make_exchange("okx", sim.base_url, enableRateLimit=False)
    try:
        okx = xlog.wrap(exchange)
        await okx.load_markets()
        await okx.fetch_ticker(BTC)
        await okx.fetch_order_book(BTC)
        sim.inject("okx", "rate_limit")
        with pytest.raises(ccxt.RateLimitExceeded):
            await okx.fetch_ticker(BTC)
    finally:
        await exchange.close()
    figures = xlog.metrics("okx")
    assert (figures["calls"], figures["success_rate"], figures["rate_limit_count"]) == (4, 0.75, 1)
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]


async def test_watch_ticker_logs_connection_subscription_and_lag(sim, clock):
    """The first watch_ticker logs ws_connected and ws_subscription; every message logs its lag."""
    lagging_clock = lambda: clock.now + 3.0  # noqa: E731  the logger's clock runs 3 s ahead of the feed
    with capture_logs("DEBUG") as logs:
        xlog = _xlog(lagging_clock, lag_warn_ms=2000)
        pro = make_exchange("binanceusdm", sim.base_url, pro=True, enableRateLimit=False)
        try:
            watched = xlog.wrap(pro)
            for _ in range(2):
                ticker = await watched.watch_ticker(BTC)
                assert ticker["last"] > 0
        finally:
            await pro.close()
    [connected] = logs.find(event="ws_connected")
    assert (connected["context"]["exchange"], connected["context"]["stream"]) == ("binanceusdm", f"ticker:{BTC}")
    [subscribed] = logs.find(event="ws_subscription")
    assert subscribed["context"]["symbol"] == BTC
    lags = logs.find(event="ws_message_lag")
    assert len(lags) == 2 and all(r["level"] == "WARNING" and r["context"]["lag_ms"] == 3000.0 for r in lags)
    assert [r["level"] for r in logs.find(event="exchange_api_call")] == ["DEBUG"] * 2
    for record in logs.records:
        validate_record(record)


def test_ws_lifecycle_events(clock, logs):
    """Disconnect and reconnect events name the exchange and stream."""
    xlog = _xlog(clock)
    xlog.ws_disconnected("okx", "ticker:BTC/USDT:USDT", "network")
    xlog.ws_reconnect("okx", "ticker:BTC/USDT:USDT", attempt=2)
    down, up = logs.find(event="ws_disconnected"), logs.find(event="ws_reconnect")
    assert down[0]["context"] == {"exchange": "okx", "stream": "ticker:BTC/USDT:USDT", "reason": "network"}
    assert (down[0]["level"], up[0]["context"]["attempt"]) == ("WARNING", 2)


async def test_cross_exchange_outlier_from_real_tickers(sim, clock, logs):
    """Real tickers from three venues agree; a price 5 % off the median is flagged price_outlier."""
    xlog = _xlog(clock, outlier_pct=2.0)
    made = [make_exchange(v, sim.base_url, enableRateLimit=False) for v in ("binanceusdm", "bybit", "okx")]
    try:
        tickers = {ex.id: await ex.fetch_ticker(BTC) for ex in made}
    finally:
        for ex in made:
            await ex.close()
    assert xlog.check_cross_exchange("BTC-USDT", tickers) == {}
    prices = {ex: t["last"] for ex, t in tickers.items()}
    prices["okx"] = prices["bybit"] * 1.05
    assert list(xlog.check_cross_exchange("BTC-USDT", prices)) == ["okx"]
    [issue] = logs.find(event="data_quality_issue")
    assert (issue["context"]["flags"], issue["context"]["exchange"]) == (["price_outlier"], "okx")
    assert issue["context"]["deviation_pct"] > 2.0


def test_arbitrage_needs_spread_above_fees_plus_threshold(clock, logs):
    """A 1 % spread beats 2 x 0.1 % fees and a 0.5 % threshold; a 0.6 % spread does not."""
    xlog = _xlog(clock)
    wide = {"okx": {"bid": 100.9, "ask": 101.0}, "bybit": {"bid": 102.0, "ask": 102.1}, "binanceusdm": 101.5}
    found = xlog.detect_arbitrage("BTC-USDT", wide, fee_pct=0.1, threshold_pct=0.5)
    assert found is not None
    assert (found["buy_exchange"], found["sell_exchange"]) == ("okx", "bybit")
    assert found["spread_pct"] == pytest.approx(0.990099, abs=1e-6)
    assert found["net_spread_pct"] == pytest.approx(0.790099, abs=1e-6)
    narrow = {"okx": {"bid": 100.9, "ask": 101.0}, "bybit": {"bid": 101.6, "ask": 101.7}}
    assert xlog.detect_arbitrage("BTC-USDT", narrow, fee_pct=0.1, threshold_pct=0.5) is None
    [record] = logs.find(event="arbitrage_opportunity")
    assert record["level"] == "INFO"
    assert {"symbol", "buy_exchange", "sell_exchange", "spread_pct", "net_spread_pct"} <= set(record["context"])
    validate_record(record)


async def test_verbose_ccxt_output_is_routed_and_never_leaks_credentials(sim, clock):
    """With verbose=True and DEBUG, ccxt's prints and logger lines become records without apiKey or secret."""
    api_key, secret = "AKtestKEY0123456789abcdefLEAK", "SKtestSECRET9876543210zyxLEAK"
    with capture_logs("DEBUG", settings=LogSettings(monitoring=False)) as logs:
        xlog = _xlog(clock)
        exchange = make_exchange("binanceusdm", sim.base_url, apiKey=api_key, secret=secret, verbose=True,
                                 enableRateLimit=False)
        try:
            logged = xlog.wrap(exchange)
            with pytest.raises(ccxt.ExchangeNotAvailable):  # with keys, load_markets asks a signed private
                await logged.load_markets()  # endpoint (X-MBX-APIKEY header) the simulator answers 404
        finally:
            await exchange.close()
    verbose = logs.find(event="ccxt_verbose")
    assert any("fetch Request" in r["message"] for r in verbose)
    assert any(r.get("logger") == "ccxt.base.exchange" or r["module"] == "ccxt.base.exchange"
               for r in logs.records)
    text = b"\n".join(logs.lines)
    assert api_key.encode() not in text and secret.encode() not in text
    assert b"LEAK" not in text
    assert b"X-MBX-APIKEY" in text  # the header that carried the key was logged, its value was not
    for record in logs.records:
        validate_record(record)
