"""The admin endpoint installs, lists and clears faults over HTTP and reports request counts."""

from __future__ import annotations

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.exchange_simulator import KINDS, FaultError
from services.exchange_simulator.faults import ALIASES, parse_fault


@pytest.fixture
async def http(sim):
    """A plain aiohttp client for the simulator's base url."""
    async with aiohttp.ClientSession(base_url=sim.base_url) as session:
        yield session


async def test_post_fault_then_state_shows_it(http):
    """POST /_admin/faults installs a fault that GET /_admin/state then lists."""
    body = {"exchange": "okx", "kind": "latency", "params": {"ms": 5}, "duration_s": 60, "probability": 0.5}
    async with http.post("/_admin/faults", json=body) as resp:
        assert resp.status == 201
        created = (await resp.json())["fault"]
    async with http.get("/_admin/state") as resp:
        state = await resp.json()
    assert state["faults"] == [created]
    assert (created["kind"], created["params"], created["probability"]) == ("latency", {"ms": 5.0}, 0.5)


async def test_delete_clears_one_exchange_or_all(http, sim):
    """DELETE /_admin/faults?exchange=X clears that exchange's faults; without it, all of them."""
    sim.inject("okx", "html")
    sim.inject("bybit", "html")
    async with http.delete("/_admin/faults", params={"exchange": "okx"}) as resp:
        assert (await resp.json()) == {"cleared": 1}
    assert [f["exchange"] for f in sim.state()["faults"]] == ["bybit"]
    async with http.delete("/_admin/faults") as resp:
        assert (await resp.json()) == {"cleared": 1}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"exchange": "kraken", "kind": "html"}, "unknown exchange 'kraken'; allowed: binanceusdm, bybit, okx"),
        ({"exchange": "okx", "kind": "meteor"}, "unknown fault kind 'meteor'; allowed: latency"),
        ({"exchange": "okx", "kind": "latency", "params": {"secs": 1}}, "unknown param(s) ['secs']"),
        ({"exchange": "okx", "kind": "5xx", "params": {"status": 404}}, "server_error.status=404 is out of range"),
        ({"exchange": "okx", "kind": "html", "probability": 2}, "probability=2 is out of range; allowed 0..1"),
        ({"exchange": "okx", "kind": "html", "when": 1}, "unknown field(s) ['when']"),
    ],
)
async def test_invalid_fault_is_rejected_with_a_clear_message(http, body, complaint):
    """A bad fault request gets 400 and a message naming the bad key or value and what is allowed."""
    async with http.post("/_admin/faults", json=body) as resp:
        assert resp.status == 400
        assert complaint in (await resp.json())["error"]


async def test_request_counts_per_exchange_and_reset(http):
    """Every venue request is counted per exchange and per path; DELETE /_admin/requests zeroes them."""
    for _ in range(3):
        async with http.get("/fapi.binance.com/fapi/v1/time") as resp:
            assert resp.status == 200
    async with http.get("/www.okx.com/api/v5/public/time") as resp:
        assert resp.status == 200
    async with http.get("/_admin/state") as resp:
        state = await resp.json()
    assert state["requests"] == {"binanceusdm": 3, "bybit": 0, "okx": 1}
    assert state["requests_by_path"]["binanceusdm /fapi/v1/time"] == 3
    async with http.delete("/_admin/requests"):
        pass
    assert sim_requests(await (await http.get("/_admin/state")).json()) == 0


def sim_requests(state):
    """Sum the per-exchange request counts of a state answer."""
    return sum(state["requests"].values())


async def test_unknown_host_and_path_say_what_is_simulated(http):
    """An unknown host or path gets 404 naming what the simulator does serve."""
    async with http.get("/api.kraken.com/0/public/Ticker") as resp:
        assert resp.status == 404
        assert "fapi.binance.com" in (await resp.json())["error"]
    async with http.get("/api.bybit.com/v5/market/funding/history") as resp:
        assert resp.status == 404
        assert "/v5/market/tickers" in (await resp.json())["simulated"]


async def test_html_fault_is_a_200_html_page(http, sim):
    """The html fault answers 200 with text/html, as a CDN challenge page does."""
    sim.inject("bybit", "html_200")
    async with http.get("/api.bybit.com/v5/market/time") as resp:
        assert (resp.status, resp.content_type) == (200, "text/html")
        assert (await resp.text()).startswith("<!DOCTYPE html>")


async def test_health(http):
    """GET /_admin/health answers ok, for Docker health checks."""
    async with http.get("/_admin/health") as resp:
        assert (await resp.json())["ok"] is True


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=8)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    exchange=st.sampled_from(["binanceusdm", "bybit", "okx", "*", "ftx", ""]),
    kind=st.sampled_from([*KINDS, *ALIASES, "nope", ""]),
    params=st.dictionaries(st.sampled_from(["ms", "status", "seconds", "age_s", "ticks", "retry_after", "x"]),
                           _values, max_size=3),
    probability=_values,
)
def test_fault_parsing_accepts_or_names_the_problem(exchange, kind, params, probability):
    """Any fault request either parses to a valid fault or raises FaultError; nothing else escapes."""
    payload = {"exchange": exchange, "kind": kind, "params": params, "probability": probability}
    try:
        fault = parse_fault(payload, 1, 0.0)
    except FaultError as exc:
        assert str(exc)
    else:
        assert fault.kind in KINDS
        assert set(fault.params) == set(KINDS[fault.kind])
        assert 0.0 <= fault.probability <= 1.0
