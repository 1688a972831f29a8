"""Build ccxt exchanges that talk to the simulator or to the real venue, by configuration alone.

`point_at_simulator` rewrites every url in `exchange.urls['api']`: https://host/path becomes
http://127.0.0.1:PORT/host/path and wss://host:port/path becomes ws://127.0.0.1:PORT/host/path.
This module imports ccxt; the simulator server does not.
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
    """Rewrite one exchange url to go through the simulator at base_url (http://127.0.0.1:PORT)."""
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


def point_at_simulator(exchange: Any, base_url: str) -> Any:
    """Send all of an exchange's REST and WebSocket traffic to the simulator; returns the exchange."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must look like http://127.0.0.1:PORT, got {base_url!r}")
    exchange.urls["api"] = _rewrite(exchange.urls["api"], base_url)
    return exchange


def make_exchange(exchange_id: str, base_url: str | None = None, *, pro: bool = False, **config: Any) -> Any:
    """Build a ccxt async (or, with pro=True, ccxt.pro) exchange; with base_url, pointed at the simulator.

    `config` is ccxt's constructor config (timeout, enableRateLimit, apiKey, options, ...); its
    `options` are merged over PERPETUAL_OPTIONS for the exchange.
    """
    module = ccxt_pro if pro else ccxt_async
    cls = getattr(module, exchange_id, None)
    if cls is None or not isinstance(cls, type):
        raise ValueError(
            f"unknown ccxt exchange id {exchange_id!r}; the simulator speaks {', '.join(PERPETUAL_OPTIONS)}"
        )
    options = {**PERPETUAL_OPTIONS.get(exchange_id, {}), **config.pop("options", {})}
    if base_url:  # plain http on loopback: no TLS shutdown to wait for in close()
        config.setdefault("timeout_on_exit", 0)
    exchange = cls({**config, "options": options})
    return point_at_simulator(exchange, base_url) if base_url else exchange
