"""make_exchange and point_at_simulator route ccxt to the simulator, or leave it on the real venue."""

from __future__ import annotations

import ccxt.async_support as ccxt_async
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exchange_simulator import VENUES
from services.exchange_simulator.client import make_exchange, point_at_simulator, rewrite_url

BASE = "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://fapi.binance.com/fapi/v1", f"{BASE}/fapi.binance.com/fapi/v1"),
        ("https://api.{hostname}", f"{BASE}/api.{{hostname}}"),
        ("wss://ws.okx.com:443/ws/v5", "ws://127.0.0.1:9999/ws.okx.com/ws/v5"),
        ("wss://stream.binance.com:9443/ws", "ws://127.0.0.1:9999/stream.binance.com/ws"),
        ("not a url", "not a url"),
    ],
)
def test_rewrite_url(url, expected):
    """https and wss urls become http/ws urls on the simulator with the host as first path segment."""
    assert rewrite_url(url, BASE) == expected


hosts = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){1,2}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9_\-]{1,8}){0,4}", fullmatch=True)


@given(scheme=st.sampled_from(["https", "wss"]), host=hosts, port=st.one_of(st.none(), st.integers(1, 65535)),
       path=paths)
def test_rewrite_keeps_host_and_path(scheme, host, port, path):
    """Any https/wss url keeps its host (without port) and its path, behind the simulator's address."""
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    prefix = "ws" if scheme == "wss" else "http"
    assert rewrite_url(url, BASE) == f"{prefix}://127.0.0.1:9999/{host}{path}"


def _strings(value):
    """Yield every string in a nested urls structure."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_every_api_url_points_at_the_simulator(exchange_id):
    """After make_exchange with a base_url, no REST or WebSocket url leaves 127.0.0.1."""
    exchange = make_exchange(exchange_id, BASE, pro=True)
    try:
        urls = list(_strings(exchange.urls["api"]))
        assert urls
        assert all(u.startswith(("http://127.0.0.1:9999/", "ws://127.0.0.1:9999/")) for u in urls)
    finally:
        await exchange.close()


async def test_without_base_url_the_real_urls_stay():
    """Without base_url make_exchange talks to the real venue, with the perpetual-only market options."""
    exchange = make_exchange("bybit", None, timeout=5000)
    reference = ccxt_async.bybit()
    try:
        assert exchange.urls["api"] == reference.urls["api"]
        assert exchange.options["fetchMarkets"]["types"] == ["linear"]
        assert exchange.timeout == 5000
    finally:
        await exchange.close()
        await reference.close()


async def test_caller_options_override_the_defaults():
    """Options given by the caller win over the perpetual-only defaults."""
    exchange = make_exchange("okx", BASE, options={"fetchMarkets": {"types": ["spot", "swap"]}})
    try:
        assert exchange.options["fetchMarkets"]["types"] == ["spot", "swap"]
        assert exchange.options["defaultType"] == "swap"
    finally:
        await exchange.close()


def test_unknown_exchange_and_bad_base_url_are_named():
    """An unknown exchange id or a base_url without a scheme raises ValueError naming it."""
    with pytest.raises(ValueError, match="unknown ccxt exchange id 'mtgox'"):
        make_exchange("mtgox", BASE)
    with pytest.raises(ValueError, match="base_url must look like"):
        point_at_simulator(object(), "127.0.0.1:80")
