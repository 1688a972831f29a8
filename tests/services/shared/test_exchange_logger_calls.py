"""ExchangeLogger against the real ccxt client and the exchange simulator: calls, faults, data quality."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt
import pytest

from crypto_observability.shared.exchange_logger import ExchangeLogger, error_type
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import validate_record
from services.exchange_simulator import FakeClock, SimulatorServer
from services.exchange_simulator.client import make_exchange

BTC = "BTC/USDT:USDT"


@pytest.fixture
async def wrapped(sim: SimulatorServer, clock: FakeClock, logs: Any) -> AsyncIterator[Callable[..., Any]]:
    """Build logged ccxt clients against the simulator; closed after the test."""
    made: list[Any] = []
    xlog = ExchangeLogger(create_structured_logger("market-data", "exchange"), clock=clock)

    def build(exchange_id: str, **config: Any) -> Any:
        exchange = make_exchange(exchange_id, sim.base_url, **{"enableRateLimit": False, "timeout": 3000, **config})
        made.append(exchange)
        return xlog.wrap(exchange)

    yield build
    for exchange in made:
        await exchange.close()


def _calls(logs: Any, **fields: Any) -> list[dict[str, Any]]:
    return logs.find(event="exchange_api_call", **fields)


def _all_valid(logs: Any) -> None:
    for record in logs.records:
        validate_record(record)


async def test_successful_call_logs_one_exchange_api_call(wrapped, logs):
    """A fetch_ticker that works logs exchange, method, symbol, success and response_time_ms at INFO."""
    okx = wrapped("okx")
    ticker = await okx.fetch_ticker(BTC)
    assert ticker["last"] > 0
    [record] = _calls(logs, method="fetch_ticker")
    assert record["level"] == "INFO"
    ctx = record["context"]
    assert (ctx["exchange"], ctx["symbol"], ctx["success"]) == ("okx", BTC, True)
    assert isinstance(ctx["response_time_ms"], float) and ctx["response_time_ms"] > 0
    assert "error_type" not in ctx
    assert not logs.find(event="data_quality_issue")
    _all_valid(logs)


async def test_load_markets_is_logged_without_a_symbol(wrapped, logs):
    """load_markets is an API call too, logged with no symbol field."""
    await wrapped("bybit").load_markets()
    [record] = _calls(logs, method="load_markets")
    assert "symbol" not in record["context"] and record["context"]["success"] is True


FAULTS = [
    ("binanceusdm", "rate_limit", {"retry_after": 7}, ccxt.DDoSProtection, "rate_limit", "WARNING"),
    ("bybit", "rate_limit", {"retry_after": 3}, ccxt.RateLimitExceeded, "rate_limit", "WARNING"),
    ("okx", "ip_ban", {"retry_after": 120}, ccxt.DDoSProtection, "rate_limit", "WARNING"),
    ("okx", "server_error", {}, ccxt.ExchangeNotAvailable, "unavailable", "WARNING"),
    ("binanceusdm", "timeout", {}, ccxt.RequestTimeout, "timeout", "WARNING"),
]


@pytest.mark.parametrize(("venue", "kind", "params", "raised", "expected_type", "level"), FAULTS)
async def test_fault_is_logged_classified_and_reraised(sim, wrapped, logs, venue, kind, params, raised,
                                                       expected_type, level):
    """Each injected fault re-raises ccxt's exception unchanged and logs its error_type and error block."""
    exchange = wrapped(venue, timeout=400)
    await exchange.load_markets()
    sim.inject(venue, kind, **params)
    with pytest.raises(raised):
        await exchange.fetch_ticker(BTC)
    [record] = _calls(logs, method="fetch_ticker")
    ctx = record["context"]
    assert (ctx["success"], ctx["error_type"], record["level"]) == (False, expected_type, level)
    assert record["error"]["type"] == raised.__name__
    assert record["error"]["category"] == expected_type
    assert ctx["response_time_ms"] > 0
    _all_valid(logs)


@pytest.mark.parametrize(("venue", "kind", "retry_after"), [("binanceusdm", "rate_limit", 7), ("okx", "ip_ban", 90)])
async def test_rate_limit_emits_rate_limit_hit_with_retry_after(sim, wrapped, logs, venue, kind, retry_after):
    """429 and 418 answers also emit rate_limit_hit carrying the Retry-After seconds."""
    exchange = wrapped(venue)
    await exchange.load_markets()
    sim.inject(venue, kind, retry_after=retry_after)
    with pytest.raises(ccxt.NetworkError):
        await exchange.fetch_order_book(BTC)
    [hit] = logs.find(event="rate_limit_hit")
    assert hit["context"] == {"scope": "exchange", "exchange": venue, "method": "fetch_order_book",
                              "retry_after": float(retry_after)}
    assert _calls(logs, method="fetch_order_book")[0]["context"]["retry_after"] == float(retry_after)


async def test_bad_symbol_and_missing_credentials(wrapped, logs):
    """An unknown symbol is bad_symbol at WARNING; a private call without keys is auth at ERROR."""
    exchange = wrapped("binanceusdm")
    await exchange.load_markets()
    with pytest.raises(ccxt.BadSymbol):
        await exchange.fetch_ticker("NOPE/USDT:USDT")
    with pytest.raises(ccxt.AuthenticationError):
        await exchange.fetch_balance()
    bad, auth = _calls(logs, method="fetch_ticker")[0], _calls(logs, method="fetch_balance")[0]
    assert (bad["context"]["error_type"], bad["level"]) == ("bad_symbol", "WARNING")
    assert (auth["context"]["error_type"], auth["level"], auth["error"]["category"]) == ("auth", "ERROR", "auth")
    _all_valid(logs)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [(ccxt.OnMaintenance("x"), "unavailable"), (ccxt.InvalidNonce("x"), "network"),
     (ccxt.PermissionDenied("x"), "auth"), (ccxt.InsufficientFunds("x"), "exchange"),
     (ccxt.RateLimitExceeded("x"), "rate_limit"), (ValueError("x"), "internal"), (KeyError("x"), "internal")],
)
def test_error_type_follows_ccxt_hierarchy(exc, expected):
    """Subclasses map through their nearest named ancestor; anything outside ccxt is internal."""
    assert error_type(exc) == expected


async def test_html_200_is_flagged_missing_fields(sim, wrapped, logs):
    """An HTML page with status 200 succeeds in ccxt but is flagged missing_fields."""
    exchange = wrapped("bybit")
    await exchange.load_markets()
    sim.inject("bybit", "html")
    ticker = await exchange.fetch_ticker(BTC)
    assert ticker["last"] is None
    [issue] = logs.find(event="data_quality_issue")
    assert issue["level"] == "WARNING"
    assert issue["context"]["flags"] == ["missing_fields"]
    assert issue["context"]["missing"] == ["last", "timestamp"]
    assert (issue["context"]["exchange"], issue["context"]["symbol"], issue["context"]["method"]) == (
        "bybit", BTC, "fetch_ticker")
    assert _calls(logs, method="fetch_ticker")[0]["context"]["success"] is True


async def test_stale_ticker_and_open_interest_are_flagged(sim, wrapped, logs):
    """Timestamps older than max_age_s (oi_max_age_s for open interest) are flagged stale with their age."""
    exchange = wrapped("okx")
    exchange.exchange_logger.oi_max_age_s = 300
    await exchange.load_markets()
    sim.inject("okx", "stale", age_s=600)
    await exchange.fetch_ticker(BTC)
    await exchange.fetch_open_interest(BTC)
    issues = logs.find(event="data_quality_issue")
    assert [(i["context"]["method"], i["context"]["flags"], i["context"]["age_s"]) for i in issues] == [
        ("fetch_ticker", ["stale"], 600.0), ("fetch_open_interest", ["stale"], 600.0)]


async def test_crossed_book_is_flagged(sim, wrapped, logs):
    """A book whose best bid is at or above its best ask is flagged crossed_book."""
    exchange = wrapped("binanceusdm")
    await exchange.load_markets()
    sim.inject("binanceusdm", "crossed", ticks=4)
    book = await exchange.fetch_order_book(BTC, 5)
    [issue] = logs.find(event="data_quality_issue")
    assert issue["context"]["flags"] == ["crossed_book"]
    assert issue["context"]["best_bid"] == book["bids"][0][0] > book["asks"][0][0]
    _all_valid(logs)


async def test_healthy_answers_raise_no_flags(wrapped, logs):
    """Fresh tickers, books and open interest from every venue pass the checks."""
    for venue in ("binanceusdm", "bybit", "okx"):
        exchange = wrapped(venue)
        await exchange.fetch_ticker(BTC)
        await exchange.fetch_order_book(BTC, 5)
        await exchange.fetch_open_interest(BTC)
    assert logs.find(event="data_quality_issue") == []
    assert len(_calls(logs, success=True)) >= 9
