"""Point ccxt clients at the simulator: the production factory, routed through the simulator's address.

The simulator serves every venue under its host name as the first path segment, the gateway
convention `services.market_data.ccxt_clients` implements; production never imports this module.
"""

from __future__ import annotations

from typing import Any

from services.market_data.ccxt_clients import PERPETUAL_OPTIONS, rewrite_url, route_through
from services.market_data.ccxt_clients import make_exchange as _make_exchange

__all__ = ["PERPETUAL_OPTIONS", "make_exchange", "point_at_simulator", "rewrite_url"]


def point_at_simulator(exchange: Any, base_url: str) -> Any:
    """Send all of an exchange's REST and WebSocket traffic to the simulator at base_url; returns it."""
    return route_through(exchange, base_url)


def make_exchange(exchange_id: str, base_url: str | None = None, *, pro: bool = False, **config: Any) -> Any:
    """Build a ccxt exchange with production's factory; with base_url (the simulator's), pointed at it."""
    return _make_exchange(exchange_id, base_url, pro=pro, **config)
