"""The WebSocket feeds serve ccxt.pro's watch_ticker on all three venues, and the raw stream protocols."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from services.exchange_simulator import VENUES


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_watch_ticker_matches_rest_and_follows_the_clock(connect, clock, exchange_id):
    """watch_ticker gets the REST price at the same clock time, and a new price after the clock moves."""
    rest = await connect(exchange_id).fetch_ticker("BTC/USDT:USDT")
    pro = connect(exchange_id, pro=True)
    first = await pro.watch_ticker("BTC/USDT:USDT")
    assert (first["last"], first["timestamp"]) == (rest["last"], rest["timestamp"])
    clock.advance(120)
    later = await pro.watch_ticker("BTC/USDT:USDT")
    while later["timestamp"] == first["timestamp"]:  # an update pushed before the advance may come first
        later = await pro.watch_ticker("BTC/USDT:USDT")
    assert later["timestamp"] == first["timestamp"] + 120_000
    assert later["last"] != first["last"]


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_watch_ticker_for_two_symbols(connect, exchange_id):
    """Two symbols on one client each get their own ticker."""
    pro = connect(exchange_id, pro=True)
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


async def _ws(sim, path):
    """Open a raw WebSocket session and socket to a simulated host path."""
    session = aiohttp.ClientSession()
    return session, await session.ws_connect(sim.base_url.replace("http", "ws", 1) + path)


async def test_bybit_protocol_subscribe_ping_and_unknown_topic(sim):
    """Bybit acknowledges subscribe with success, answers ping with pong, and refuses unknown topics."""
    session, ws = await _ws(sim, "/stream.bybit.com/v5/public/linear")
    async with session, ws:
        await ws.send_str('{"op": "subscribe", "args": ["tickers.XRPUSDT"], "req_id": "9"}')
        ack, snap = await _next(ws), await _next(ws)
        assert (ack["success"], ack["op"], ack["req_id"]) == (True, "subscribe", "9")
        assert (snap["topic"], snap["type"], snap["data"]["symbol"]) == ("tickers.XRPUSDT", "snapshot", "XRPUSDT")
        await ws.send_str('{"op": "ping", "req_id": "10"}')
        reply = await _next(ws)
        while reply.get("op") != "ping":
            reply = await _next(ws)
        assert reply["ret_msg"] == "pong"
        await ws.send_str('{"op": "subscribe", "args": ["tickers.LUNAUSDT"], "req_id": "11"}')
        reply = await _next(ws)
        while reply.get("req_id") != "11":
            reply = await _next(ws)
        assert reply["success"] is False


async def test_okx_protocol_subscribe_ping_and_unknown_instrument(sim):
    """OKX acknowledges subscribe with an event, answers the text ping with pong, and errors on unknown ids."""
    session, ws = await _ws(sim, "/ws.okx.com/ws/v5/public")
    async with session, ws:
        arg = {"channel": "tickers", "instId": "ETH-USDT-SWAP"}
        await ws.send_str(orjson.dumps({"op": "subscribe", "args": [arg]}).decode())
        ack, push = await _next(ws), await _next(ws)
        assert ack == {"event": "subscribe", "arg": arg, "connId": "sim"}
        assert (push["arg"], push["data"][0]["instId"]) == (arg, "ETH-USDT-SWAP")
        await ws.send_str('{"op": "unsubscribe", "args": [{"channel": "tickers", "instId": "ETH-USDT-SWAP"}]}')
        await ws.send_str("ping")
        replies = []
        while "pong" not in replies:
            replies.append((await ws.receive(timeout=5)).data)
        await ws.send_str('{"op": "subscribe", "args": [{"channel": "tickers", "instId": "LUNA-USDT-SWAP"}]}')
        reply = await _next(ws)
        while "code" not in reply:  # a push already under way may still arrive
            reply = await _next(ws)
        assert reply["code"] == "60018"
