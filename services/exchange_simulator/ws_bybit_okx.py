"""Bybit v5 and OKX v5 public ticker feeds over WebSocket (what ccxt.pro `watch_ticker` uses for them).

Bybit: /stream.bybit.com/v5/public/linear; {"op": "subscribe", "args": ["tickers.BTCUSDT"], "req_id": "1"}
is acknowledged with {"success": true, "op": "subscribe", ...}; then {"topic": "tickers.BTCUSDT",
"type": "snapshot", "data": {...}} messages. {"op": "ping"} gets a pong.

OKX: /ws.okx.com/ws/v5/public; {"op": "subscribe", "args": [{"channel": "tickers", "instId":
"BTC-USDT-SWAP"}]} is acknowledged with {"event": "subscribe", "arg": {...}}; then {"arg": {...},
"data": [{...}]} messages. The text "ping" gets "pong".
"""

from __future__ import annotations

from typing import Any

import orjson

from . import venue_bybit, venue_okx
from .instruments import BY_OKX_ID, BY_PAIR
from .venue_base import Ctx
from .ws_feed import Feed


def _decode(text: str) -> dict[str, Any] | None:
    """Parse a JSON object, or None when the frame is not one."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


class BybitFeed(Feed):
    """Bybit's op-based protocol with `tickers.<SYMBOL>` topics."""

    def event(self, stream: str, ctx: Ctx) -> Any:
        """Return a ticker snapshot for a `tickers.<SYMBOL>` topic."""
        channel, _, symbol = stream.partition(".")
        coin = BY_PAIR.get(symbol)
        if channel != "tickers" or coin is None:
            return None
        data = venue_bybit.ticker_entry(ctx, coin)
        return {"topic": stream, "type": "snapshot", "data": data, "cs": ctx.now_ms // 10, "ts": ctx.now_ms}

    async def on_message(self, text: str) -> None:
        """Handle subscribe, unsubscribe and ping."""
        request = _decode(text) or {}
        op, args, req_id = request.get("op"), request.get("args") or [], request.get("req_id", "")
        reply = {"success": True, "ret_msg": "", "conn_id": "sim", "req_id": req_id, "op": op}
        if op == "ping":
            await self.send({**reply, "ret_msg": "pong"})
        elif op == "subscribe":
            unknown = [t for t in args if self.event(str(t), self.ctx_factory()) is None]
            if unknown:
                await self.send({**reply, "success": False, "ret_msg": f"error:handler not found,topics:{unknown}"})
                return
            fresh = [str(t) for t in args if t not in self.streams]
            self.streams.extend(fresh)
            await self.send(reply)
            await self.push(fresh)
        elif op == "unsubscribe":
            self.streams = [s for s in self.streams if s not in args]
            await self.send(reply)
        else:
            await self.send({**reply, "success": False, "ret_msg": f"error:unsupported op {op!r}"})


class OkxFeed(Feed):
    """OKX's op/event protocol with {"channel": "tickers", "instId": ...} arguments."""

    def event(self, stream: str, ctx: Ctx) -> Any:
        """Return the tickers push for a `tickers:<instId>` stream."""
        channel, _, inst_id = stream.partition(":")
        coin = BY_OKX_ID.get(inst_id)
        if channel != "tickers" or coin is None:
            return None
        return {"arg": {"channel": channel, "instId": inst_id}, "data": [venue_okx.ticker_entry(ctx, coin)]}

    async def on_message(self, text: str) -> None:
        """Handle subscribe, unsubscribe and the text ping."""
        if text == "ping":
            if not self.ws.closed:
                await self.ws.send_str("pong")
            return
        request = _decode(text) or {}
        op, args = request.get("op"), [a for a in request.get("args") or [] if isinstance(a, dict)]
        if op not in ("subscribe", "unsubscribe"):
            await self.send({"event": "error", "code": "60012", "msg": f"Illegal request: {text[:200]}"})
            return
        for arg in args:
            stream = f"{arg.get('channel')}:{arg.get('instId')}"
            if self.event(stream, self.ctx_factory()) is None:
                await self.send({"event": "error", "code": "60018", "msg": f"{stream} doesn't exist"})
                continue
            await self.send({"event": op, "arg": arg, "connId": "sim"})
            if op == "unsubscribe":
                self.streams = [s for s in self.streams if s != stream]
            elif stream not in self.streams:
                self.streams.append(stream)
                await self.push([stream])
