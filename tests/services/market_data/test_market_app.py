"""market-data end to end: real uvicorn, real ccxt clients, the exchange simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from crypto_observability.shared.settings import ConfigError
from crypto_observability.shared.testing import CapturedLogs, capture_logs, validate_record
from services.exchange_simulator import SimulatorServer
from services.market_data.app import create_app
from services.market_data.config import MarketDataSettings


@dataclass
class Stack:
    http: httpx.AsyncClient
    sim: SimulatorServer
    logs: CapturedLogs


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    """The simulator, market-data under uvicorn pointed at it, and a client; logs captured."""
    with capture_logs("DEBUG") as logs:
        async with SimulatorServer() as sim:
            port = _port()
            settings = MarketDataSettings(simulator_url=sim.base_url, timeout_ms=1500, cache_ttl_s=0.0, port=port)
            server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                   log_config=None, access_log=False, lifespan="on"))
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.02)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                yield Stack(http, sim, logs)
            server.should_exit = True
            await task


async def test_price_from_every_exchange_with_one_request_id_across_all_lines(stack: Stack) -> None:
    """/price answers from all three exchanges, and every line of the request carries its id."""
    response = await stack.http.get("/price/btc", headers={"X-Request-ID": "journey-0001"})
    body = response.json()
    assert response.status_code == 200 and response.headers["x-request-id"] == "journey-0001"
    assert body["symbol"] == "BTC-USDT" and set(body["prices"]) == {"binanceusdm", "bybit", "okx"}
    assert body["partial"] is False and 10_000 < body["median_price"] < 1_000_000
    mine = [r for r in stack.logs.records if r.get("request_id") == "journey-0001"]
    calls = [r for r in mine if r.get("event") == "exchange_api_call" and r["context"]["method"] == "fetch_ticker"]
    assert {c["context"]["exchange"] for c in calls} == {"binanceusdm", "bybit", "okx"}
    assert next(r for r in mine if r.get("event") == "http_request")["context"]["path"] == "/price/{symbol}"
    for record in stack.logs.records:
        validate_record(record)


async def test_a_429_storm_gives_a_partial_oi_answer_and_rate_limit_events(stack: Stack) -> None:
    """One rate-limited exchange: OI still answers from the others, marked partial, and the log says why."""
    await stack.http.get("/price/BTC")  # markets loaded before the storm
    stack.sim.inject("bybit", "rate_limit", retry_after=3)
    response = await stack.http.get("/oi/BTC-USDT")
    body = response.json()
    assert response.status_code == 200 and body["partial"] is True
    assert body["exchanges_failed"] == {"bybit": "rate_limit"}
    assert set(body["per_exchange_usd"]) == {"binanceusdm", "okx"}
    assert body["total_oi_usd"] == pytest.approx(sum(body["per_exchange_usd"].values()))
    hits = stack.logs.find(event="rate_limit_hit")
    assert hits and hits[0]["context"]["exchange"] == "bybit"
    (oi,) = stack.logs.find(event="oi_aggregation")
    assert oi["context"]["partial"] is True and oi["context"]["exchanges_failed"] == ["bybit"]


async def test_unknown_symbols_are_404_and_total_outage_is_503(stack: Stack) -> None:
    """A symbol no exchange lists is a 404; every exchange down is a 503 naming each failure."""
    await stack.http.get("/price/BTC")
    unknown = await stack.http.get("/price/NOTACOIN")
    assert unknown.status_code == 404 and "NOTACOIN" in unknown.json()["detail"]
    for exchange in ("binanceusdm", "bybit", "okx"):
        stack.sim.inject(exchange, "server_error", status=503)
    down = await stack.http.get("/volume/ETH")
    assert down.status_code == 503 and down.headers["x-request-id"]
    assert down.json()["exchanges_failed"] == {"binanceusdm": "unavailable", "bybit": "unavailable",
                                               "okx": "unavailable"}


async def test_indicators_long_short_and_health(stack: Stack) -> None:
    """Indicators come from real candles; long/short from every exchange; probes log at DEBUG only."""
    indicators = (await stack.http.get("/indicators/SOLUSDT")).json()
    assert 0 <= indicators["rsi_14"] <= 100 and indicators["candles"] == 100
    bands = indicators["bollinger_20"]
    assert bands["lower"] <= bands["middle"] <= bands["upper"]
    ratios = (await stack.http.get("/long-short/ETH")).json()["ratios"]
    assert set(ratios) == {"binanceusdm", "bybit", "okx"} and all(0.1 < r < 10 for r in ratios.values())
    assert (await stack.http.get("/health")).json() == {"status": "ok"}
    probe = [r for r in stack.logs.find(event="http_request") if r["context"]["path"] == "/health"]
    assert probe and probe[0]["level"] == "DEBUG"
    assert stack.logs.find(event="indicator_calculated")


def test_settings_name_the_bad_variable() -> None:
    """A bad exchange list or URL stops start-up with the variable named."""
    with pytest.raises(ConfigError, match="EXCHANGES"):
        MarketDataSettings.from_env({"EXCHANGES": "binanceusdm,mtgox"})
    with pytest.raises(ConfigError, match="EXCHANGE_SIMULATOR_URL"):
        MarketDataSettings.from_env({"EXCHANGE_SIMULATOR_URL": "127.0.0.1:80"})
    assert MarketDataSettings.from_env({}).simulator_url is None


async def test_an_unknown_symbol_is_not_logged_as_a_failed_aggregation(stack: Stack) -> None:
    """A typo from a user is a 404 and a symbol_unmapped-style answer, never an ERROR in the service's log."""
    await stack.http.get("/price/BTC")
    for route in ("/oi/DOGEFAKE", "/volume/DOGEFAKE"):
        assert (await stack.http.get(route)).status_code == 404
    assert not [r for r in stack.logs.records if r["level"] in ("ERROR", "CRITICAL")]


async def test_an_unknown_symbol_never_reaches_an_exchange(stack: Stack) -> None:
    """Markets are known: a symbol no exchange lists costs no exchange call and no failure on any exchange."""
    await stack.http.get("/price/BTC")
    before = len(stack.logs.find(event="exchange_api_call"))
    assert (await stack.http.get("/price/NOTACOIN")).status_code == 404
    assert len(stack.logs.find(event="exchange_api_call")) == before


async def test_prices_are_checked_across_exchanges(stack: Stack) -> None:
    """Every /price compares the venues: agreeing prices raise no data-quality flag and no outlier."""
    body = (await stack.http.get("/price/ETH")).json()
    assert body["price_outliers_pct"] == {} and "arbitrage" in body  # the simulator's venues agree within 0.2 %
    assert not stack.logs.find(event="data_quality_issue")
