"""The Binance USDⓈ-M WebSocket feed serves ccxt.pro's watch_ticker and the raw stream protocol."""

from __future__ import annotations

import aiohttp
import orjson
import pytest


async def test_watch_ticker_matches_rest_and_follows_the_clock(connect, clock):
    """watch_ticker gets the REST price at the same clock time, and a new price after the clock moves."""
    rest = await connect("binanceusdm").fetch_ticker("BTC/USDT:USDT")
    pro = connect("binanceusdm", pro=True)
    first = await pro.watch_ticker("BTC/USDT:USDT")
    assert (first["last"], first["timestamp"]) == (rest["last"], rest["timestamp"])
    clock.advance(120)
    later = await pro.watch_ticker("BTC/USDT:USDT")
    while later["timestamp"] == first["timestamp"]:  # an update pushed before the advance may come first
        later = await pro.watch_ticker("BTC/USDT:USDT")
    assert later["timestamp"] == first["timestamp"] + 120_000
    assert later["last"] != first["last"]


async def test_watch_ticker_for_two_symbols(connect):
    """Two symbols on one client each get their own ticker."""
    pro = connect("binanceusdm", pro=True)
    btc = await pro.watch_ticker("BTC/USDT:USDT")
    eth = await pro.watch_ticker("ETH/USDT:USDT")
    assert (btc["symbol"], eth["symbol"]) == ("BTC/USDT:USDT", "ETH/USDT:USDT")
    assert btc["last"] > 10 * eth["last"]


@pytest.fixture
async def stream(sim):
    """A raw WebSocket to the simulated fstream.binance.com."""
    async with aiohttp.ClientSession() as session:
        url = sim.base_url.replace("http", "ws", 1) + "/fstream.binance.com/market/ws/0"
        async with session.ws_connect(url) as ws:
            yield ws


async def _next(ws):
    """Read the next JSON message."""
    return orjson.loads((await ws.receive(timeout=5)).data)


async def test_subscribe_acknowledges_then_streams(stream):
    """SUBSCRIBE is acknowledged with result null, then each stream's event follows."""
    await stream.send_str('{"method": "SUBSCRIBE", "params": ["solusdt@miniTicker", "!miniTicker@arr"], "id": 7}')
    assert await _next(stream) == {"result": None, "id": 7}
    mini, everything = await _next(stream), await _next(stream)
    assert (mini["e"], mini["s"]) == ("24hrMiniTicker", "SOLUSDT")
    assert {e["s"] for e in everything} >= {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"}


async def test_list_and_unsubscribe(stream):
    """LIST_SUBSCRIPTIONS reports the streams; UNSUBSCRIBE removes one."""
    await stream.send_str('{"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}')
    await _next(stream)
    book = await _next(stream)
    assert float(book["b"]) < float(book["a"])
    await stream.send_str('{"method": "UNSUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 2}')
    await stream.send_str('{"method": "LIST_SUBSCRIPTIONS", "id": 3}')
    reply = await _next(stream)
    while reply.get("id") != 3:  # acks and pushes sent before the unsubscribe may come first
        reply = await _next(stream)
    assert reply == {"result": [], "id": 3}


async def test_bad_request_gets_an_error_message(stream):
    """Malformed JSON or an unknown method gets Binance's error object, and the socket stays open."""
    await stream.send_str("not json")
    assert (await _next(stream))["error"]["code"] == 3
    await stream.send_str('{"method": "DANCE", "id": 4}')
    assert await _next(stream) == {"error": {"code": 2, "msg": "Invalid request: DANCE"}, "id": 4}


async def test_ws_handshake_fails_under_a_server_error_fault(sim):
    """A server_error fault on binanceusdm refuses the WebSocket handshake with that status."""
    sim.inject("binanceusdm", "server_error", status=502)
    async with aiohttp.ClientSession() as session:
        url = sim.base_url.replace("http", "ws", 1) + "/fstream.binance.com/market/ws/0"
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url)
    assert info.value.status == 502
