"""The market-data client: symbols as users type them, X-Request-ID on every call, failures as plain errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crypto_observability.shared.context import bound_context
from crypto_observability.shared.testing import CapturedLogs
from services.telegram_bot.events import BotEvents
from services.telegram_bot.market_client import (
    BadSymbol,
    MarketDataClient,
    MarketDataUnavailable,
    UnknownSymbol,
    normalise_symbol,
)
from services.telegram_simulator import SimulatedUser, TelegramSimulator


@pytest.mark.parametrize(("typed", "sent"), [
    ("btc", "BTC-USDT"), ("BTC", "BTC-USDT"), ("eth/usdt", "ETH-USDT"), ("SOL-USDC", "SOL-USDC"),
    ("btcusdt", "BTCUSDT"), ("1000pepe", "1000PEPE-USDT"),
])
def test_symbols_are_upper_cased_with_usdt_by_default(typed: str, sent: str) -> None:
    """What the user typed is upper-cased, a slash becomes a dash, and a bare coin gets the USDT quote."""
    assert normalise_symbol(typed) == sent


@pytest.mark.parametrize("typed", ["", "../admin", "BTC USDT", "x" * 40, "b$c"])
def test_things_that_are_not_symbols_are_refused(typed: str) -> None:
    """Input that could not be a symbol never reaches market-data's URL."""
    with pytest.raises(BadSymbol):
        normalise_symbol(typed)


async def test_request_id_header_comes_from_the_bound_context(market: Any, logs: CapturedLogs) -> None:
    """Inside an update the bound request id is sent as X-Request-ID; outside one no header is invented."""
    async with httpx.AsyncClient() as http:
        client = MarketDataClient(market.url, BotEvents(), http)
        with bound_context(request_id="a" * 32):
            await client.get("price", "BTC-USDT")
        await client.get("oi", "BTC-USDT")
    assert [r["request_id"] for r in market.received] == ["a" * 32, None]


async def test_unknown_symbol_and_outage_become_distinct_errors(market: Any, logs: CapturedLogs,
                                                                dead_url: str) -> None:
    """404 is UnknownSymbol (a user mistake); 503 and connection refused are MarketDataUnavailable, classified."""
    market.answers[("price", "ETH-USDT")] = (503, {"detail": "no exchange answered",
                                                   "exchanges_failed": {"binance": "rate_limit"}})
    async with httpx.AsyncClient() as http:
        with pytest.raises(UnknownSymbol):
            await MarketDataClient(market.url, BotEvents(), http).get("price", "NOPE-USDT")
        with pytest.raises(MarketDataUnavailable) as outage:
            await MarketDataClient(market.url, BotEvents(), http).get("price", "ETH-USDT")
        assert (outage.value.status_code, outage.value.exchanges_failed) == (503, {"binance": "rate_limit"})
        assert outage.value.category == "unavailable"
        with pytest.raises(MarketDataUnavailable) as refused:
            await MarketDataClient(dead_url, BotEvents(), http).get("price", "ETH-USDT")
        assert (refused.value.category, refused.value.status_code) == ("network", None)


async def test_no_exchange_answering_is_explained_with_the_reasons(
    sim: TelegramSimulator, market: Any, running_bot: Any, alice: SimulatedUser
) -> None:
    """When market-data answers 503, the user is told no exchange answered and why, per exchange."""
    market.answers[("long-short", "BTC-USDT")] = (
        503, {"detail": "no exchange answered", "exchanges_failed": {"binance": "rate_limit", "okx": "timeout"}})
    async with running_bot():
        sim.send_command(alice, "/longshort btc")
        [reply] = await sim.wait_for_reply(alice.id, timeout=10)
    assert reply["text"] == ("Sorry, no exchange answered just now (binance: rate limit, okx: timeout). "
                             "Please try again in a minute.")


async def test_analysis_sends_the_timeframe_and_checks_it(
    sim: TelegramSimulator, market: Any, running_bot: Any, alice: SimulatedUser
) -> None:
    """/analysis BTC 4h asks for timeframe=4h; an unknown timeframe is explained without asking market-data."""
    async with running_bot():
        sim.send_command(alice, "/analysis btc 4h")
        sim.send_command(alice, "/analysis btc 7y")
        replies = await sim.wait_for_reply(alice.id, count=2, timeout=10)
    assert [(r["endpoint"], r["query"]) for r in market.received] == [("indicators", {"timeframe": "4h"})]
    assert replies[0]["text"].startswith("I couldn't find BTC-USDT")  # the stand-in has no indicators
    assert replies[1]["text"] == "Timeframe must be one of 5m, 15m, 1h, 4h, 1d, e.g. /analysis BTC 4h"
