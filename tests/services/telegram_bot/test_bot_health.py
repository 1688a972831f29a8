"""The bot checks market-data's /health at INFO, so connectivity shows at the default level."""

from __future__ import annotations

import socket

import httpx
from aiohttp import web

from crypto_observability.shared.testing import CapturedLogs
from services.telegram_bot.events import BotEvents
from services.telegram_bot.health import check_market_data


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _health_server() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/health", _ok)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_health_checks_of_market_data_up_and_down(logs: CapturedLogs, dead_url: str) -> None:
    """A 200 from /health is a healthy check at INFO; a refused connection an unhealthy one at WARNING."""
    runner, url = await _health_server()
    try:
        async with httpx.AsyncClient() as client:
            assert await check_market_data(client, url, BotEvents()) is True
            assert await check_market_data(client, dead_url, BotEvents()) is False
    finally:
        await runner.cleanup()
    checks = [(r["level"], r["context"]["component"], r["context"]["healthy"], r["context"]["status_code"])
              for r in logs.records if r.get("event") == "health_check"]
    assert checks == [("INFO", "market-data", True, 200), ("WARNING", "market-data", False, None)]
