"""The aiohttp application: routes /<host>/<path> to a venue, applies faults, serves the admin endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import orjson
from aiohttp import web

from . import venue_binance, venue_bybit, venue_okx, ws_feed
from .faults import Fault, FaultBook, FaultError
from .instruments import HOSTS, VENUES
from .market_model import MarketModel
from .venue_base import Ctx, Reply, VenueError
from .ws_binance import BinanceFeed
from .ws_bybit_okx import BybitFeed, OkxFeed

log = logging.getLogger("services.exchange_simulator")

FEEDS: dict[str, type[ws_feed.Feed]] = {"binanceusdm": BinanceFeed, "bybit": BybitFeed, "okx": OkxFeed}
VENUE_MODULES: dict[str, ModuleType] = {"binanceusdm": venue_binance, "bybit": venue_bybit, "okx": venue_okx}

_HTML_200 = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body><h1>Checking your browser before accessing the site.</h1></body></html>"
)
_HTML_ERROR = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1>"
    "</center><hr><center>cloudflare</center></body></html>"
)


@dataclass
class SimState:
    """Everything the handlers share: the model, the clock, the faults and the counters."""

    model: MarketModel
    clock: Callable[[], float]
    faults: FaultBook
    ws_interval: float = 1.0
    requests: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def state(self) -> dict[str, Any]:
        """Describe faults and request counts for GET /_admin/state."""
        return {
            "now": self.clock(),
            "faults": [f.to_dict() for f in self.faults.current()],
            "requests": {venue: self.requests.get(venue, 0) for venue in VENUES},
            "requests_by_path": dict(sorted(self.paths.items())),
        }


SIM_KEY = web.AppKey("sim", SimState)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Render a JSON response with orjson."""
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _render(reply: Reply) -> web.Response:
    """Turn a venue Reply into an aiohttp response."""
    if reply.content_type == "application/json":
        return _json(reply.body, reply.status, reply.headers)
    return web.Response(
        text=str(reply.body), status=reply.status, headers=reply.headers, content_type=reply.content_type
    )


def _html(status: int, text: str | None = None) -> web.Response:
    """Return an HTML page, as a CDN or gateway in front of an exchange would."""
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Time-out",
    }.get(status, "Error")
    body = text if text is not None else _HTML_ERROR.format(status=status, reason=reason)
    return web.Response(text=body, status=status, content_type="text/html")


async def _fault_response(sim: SimState, venue: ModuleType, fired: dict[str, Fault]) -> web.Response | None:
    """Apply the transport faults in force (latency, hang, status, HTML); None lets the request through."""
    if "latency" in fired:
        await asyncio.sleep(fired["latency"].params["ms"] / 1000)
    if "timeout" in fired:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sim.stopping.wait(), fired["timeout"].params["seconds"])
        return _html(504)
    if "rate_limit" in fired:
        return _render(venue.rate_limited(int(fired["rate_limit"].params["retry_after"])))
    if "ip_ban" in fired:
        return _render(venue.banned(int(fired["ip_ban"].params["retry_after"])))
    if "server_error" in fired:
        return _html(int(fired["server_error"].params["status"]))
    if "html" in fired:
        return _html(200, _HTML_200)
    return None


def _ctx(sim: SimState, exchange: str, fired: dict[str, Fault]) -> Ctx:
    """Build the request's market view with the data faults (stale, crossed) applied."""
    now = sim.clock()
    if "stale" in fired:
        now -= fired["stale"].params["age_s"]
    crossed = int(fired["crossed"].params["ticks"]) if "crossed" in fired else 0
    return Ctx(sim.model, exchange, now, crossed)


async def _venue_request(request: web.Request) -> web.StreamResponse:
    """Serve GET /<host>/<path> as the venue that owns the host."""
    sim: SimState = request.app[SIM_KEY]
    host, _, rest = request.match_info["tail"].partition("/")
    exchange = HOSTS.get(host.split(":")[0])
    if exchange is None:
        known = ", ".join(sorted(HOSTS))
        return _json({"error": f"unknown host {host!r}; simulated hosts: {known}"}, 404)
    path = "/" + rest
    sim.requests[exchange] += 1
    sim.paths[f"{exchange} {path}"] += 1
    fired = sim.faults.firing(exchange, path)
    venue = VENUE_MODULES[exchange]
    failed = await _fault_response(sim, venue, fired)
    if failed is not None:
        return failed
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await ws_feed.serve(request, FEEDS[exchange], lambda: _ctx(sim, exchange, fired), sim.ws_interval)
    handler = venue.ROUTES.get(path)
    if handler is None:
        return _json(
            {"error": f"{exchange} path {path!r} is not simulated", "simulated": sorted(venue.ROUTES)}, 404
        )
    try:
        reply = handler(_ctx(sim, exchange, fired), request.query)
    except VenueError as exc:
        reply = exc.reply
    except (ValueError, KeyError) as exc:
        reply = venue.bad_request(str(exc))
    return _render(reply)


async def _add_fault(request: web.Request) -> web.Response:
    """POST /_admin/faults: install one fault."""
    sim: SimState = request.app[SIM_KEY]
    try:
        payload = await request.json(loads=orjson.loads)
        if not isinstance(payload, dict):
            raise FaultError("body must be a JSON object")
        fault = sim.faults.add(payload)
    except (FaultError, orjson.JSONDecodeError) as exc:
        return _json({"error": str(exc)}, 400)
    log.info("fault injected: %s", fault.to_dict())
    return _json({"fault": fault.to_dict()}, 201)


async def _clear_faults(request: web.Request) -> web.Response:
    """DELETE /_admin/faults[?exchange=...]: remove all faults, or one exchange's."""
    sim: SimState = request.app[SIM_KEY]
    cleared = sim.faults.clear(request.query.get("exchange"))
    log.info("faults cleared: %d", cleared)
    return _json({"cleared": cleared})


async def _list_faults(request: web.Request) -> web.Response:
    """GET /_admin/faults: the faults in force."""
    return _json([f.to_dict() for f in request.app[SIM_KEY].faults.current()])


async def _state(request: web.Request) -> web.Response:
    """GET /_admin/state: faults, per-exchange request counts and the simulated time."""
    return _json(request.app[SIM_KEY].state())


async def _reset_counts(request: web.Request) -> web.Response:
    """DELETE /_admin/requests: zero the request counters."""
    sim: SimState = request.app[SIM_KEY]
    sim.requests.clear()
    sim.paths.clear()
    return _json({"reset": True})


async def _health(request: web.Request) -> web.Response:
    """GET /_admin/health: liveness for Docker and scripts."""
    return _json({"ok": True, "venues": list(VENUES)})


async def _on_shutdown(app: web.Application) -> None:
    """Release hanging requests so shutdown is quick."""
    app[SIM_KEY].stopping.set()


def build_app(
    model: MarketModel | None = None,
    clock: Callable[[], float] = time.time,
    seed: int = 7,
    ws_interval: float = 1.0,
) -> web.Application:
    """Build the simulator application; `clock` (epoch seconds) drives prices, timestamps and fault expiry."""
    sim = SimState(model or MarketModel(seed), clock, FaultBook(clock, seed), ws_interval)
    app = web.Application()
    app[SIM_KEY] = sim
    app.router.add_post("/_admin/faults", _add_fault)
    app.router.add_delete("/_admin/faults", _clear_faults)
    app.router.add_get("/_admin/faults", _list_faults)
    app.router.add_get("/_admin/state", _state)
    app.router.add_delete("/_admin/requests", _reset_counts)
    app.router.add_get("/_admin/health", _health)
    app.router.add_get("/{tail:.*}", _venue_request)
    app.on_shutdown.append(_on_shutdown)
    return app
