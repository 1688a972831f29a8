"""HTTP routes: the Bot API under /bot<TOKEN>/<method>, and /_admin/* for out-of-process tests and demos."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError, not_found, unauthorized
from .params import Params, read_params

if TYPE_CHECKING:
    from .simulator import TelegramSimulator

TOKEN_FORMAT = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,100}")
SIM_KEY: web.AppKey[TelegramSimulator] = web.AppKey("simulator")


def build_app(sim: TelegramSimulator) -> web.Application:
    """Build the aiohttp application serving one simulator."""
    from .admin import add_admin_routes

    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[SIM_KEY] = sim
    app.router.add_route("*", "/bot{token}/{method}", bot_call)
    add_admin_routes(app)
    return app


async def bot_call(request: web.Request) -> web.Response:
    """Answer one Bot API call the way api.telegram.org does."""
    sim = request.app[SIM_KEY]
    method = request.match_info["method"]
    params = Params({})
    try:
        token = request.match_info["token"]
        if token != sim.token:
            raise unauthorized() if TOKEN_FORMAT.fullmatch(token) else not_found()
        handler = sim.api.method(method)
        if handler is None:
            raise not_found()
        params = await read_params(request)
        fault = sim.faults.take(method)
        if fault is not None:
            raise fault
        result, description = await handler(params)
        body: dict[str, Any] = {"ok": True, "result": result}
        if description:
            body["description"] = description
        status = 200
    except ApiError as exc:
        status, body = exc.code, exc.body()
    sim.record_call(method, params.raw(), status)
    return web.json_response(body, status=status)
