"""Build the ccxt clients market-data reads, pointed at the real venues or routed through a gateway.

A gateway (EXCHANGE_SIMULATOR_URL: the exchange simulator, or any reverse proxy speaking the same
convention) takes the venue's host as its first path segment: https://host/path becomes
http://gateway/host/path and wss://host:port/path becomes ws://gateway/host/path. Production owns
this factory; the simulator only implements the convention.
"""

from __future__ import annotations

import re
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

_URL = re.compile(r"^(https?|wss?)://([^/]+)(.*)$")

# Narrow load_markets to the USDT perpetuals market-data uses (one request each instead of several).
PERPETUAL_OPTIONS: dict[str, dict[str, Any]] = {
    "binanceusdm": {"fetchMarkets": {"types": ["linear"]}},
    "bybit": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap", "defaultSubType": "linear"},
    "okx": {"fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"},
}


def rewrite_url(url: str, base_url: str) -> str:
    """Rewrite one exchange url to go through the gateway at base_url (http://127.0.0.1:PORT)."""
    match = _URL.match(url)
    if match is None:
        return url
    scheme, host, rest = match.groups()
    base = base_url.rstrip("/")
    if scheme in ("ws", "wss"):
        base = "ws" + base[len("http") :] if base.startswith("http") else base
    return f"{base}/{host.split(':')[0]}{rest}"


def _rewrite(value: Any, base_url: str) -> Any:
    """Rewrite every url string inside a nested dict/list of urls."""
    if isinstance(value, str):
        return rewrite_url(value, base_url)
    if isinstance(value, dict):
        return {k: _rewrite(v, base_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, base_url) for v in value]
    return value


def route_through(exchange: Any, base_url: str) -> Any:
    """Send all of an exchange's REST and WebSocket traffic through the gateway; returns the exchange."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must look like http://127.0.0.1:PORT, got {base_url!r}")
    exchange.urls["api"] = _rewrite(exchange.urls["api"], base_url)
    return exchange


def make_exchange(exchange_id: str, base_url: str | None = None, *, pro: bool = False, **config: Any) -> Any:
    """Build a ccxt async (or, with pro=True, ccxt.pro) exchange; with base_url, routed through that gateway.

    `config` is ccxt's constructor config (timeout, enableRateLimit, apiKey, options, ...); its
    `options` are merged over PERPETUAL_OPTIONS for the exchange.
    """
    module = ccxt_pro if pro else ccxt_async
    cls = getattr(module, exchange_id, None)
    if cls is None or not isinstance(cls, type):
        raise ValueError(
            f"unknown ccxt exchange id {exchange_id!r}; market-data reads {', '.join(PERPETUAL_OPTIONS)}"
        )
    options = {**PERPETUAL_OPTIONS.get(exchange_id, {}), **config.pop("options", {})}
    if base_url:  # plain http on loopback: no TLS shutdown to wait for in close()
        config.setdefault("timeout_on_exit", 0)
    exchange = cls({**config, "options": options})
    return route_through(exchange, base_url) if base_url else exchange
