"""The webhook server: receives Telegram's POSTs, checks the secret token, queues the update.

Our own small aiohttp server rather than PTB's built-in one, so that a missing or wrong
X-Telegram-Bot-Api-Secret-Token is refused with 403 *and* logged as a security event
(PTB's server only mentions it at DEBUG, with the offered token in the message).
"""

from __future__ import annotations

import hmac
import json
import socket
import time
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from crypto_observability.shared.context import clear_context

from .events import BotEvents

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Serves one path on host:port (port 0 picks a free one, found in .port once started)."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], secret_token: str, events: BotEvents,
                 *, host: str = "127.0.0.1", port: int = 8443, path: str = "/") -> None:
        if not secret_token:
            raise ValueError("WebhookServer needs a non-empty secret_token (WEBHOOK_SECRET_TOKEN)")
        self.app, self.events = app, events
        self.host, self.port, self.path = host, port, "/" + path.lstrip("/")
        self._secret = secret_token.encode()
        self._runner: web.AppRunner | None = None

    @property
    def local_url(self) -> str:
        """Where the server listens, e.g. http://127.0.0.1:8443/tg."""
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        """Bind and serve."""
        web_app = web.Application(client_max_size=1024**2)
        web_app.router.add_post(self.path, self.receive)
        self._runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.events.log.info("webhook server listening", host=self.host, port=self.port, path=self.path)

    async def stop(self) -> None:
        """Stop serving (pending requests are given a moment to finish)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def receive(self, request: web.Request) -> web.Response:
        """Handle one POST from Telegram: 403 without the right secret, 400 for junk, else 200."""
        clear_context()
        start = time.perf_counter()
        offered = request.headers.get(SECRET_HEADER)
        if offered is None or not hmac.compare_digest(offered.encode(), self._secret):
            reason = "missing_secret_token" if offered is None else "wrong_secret_token"
            self.events.webhook_rejected(reason)
            return web.Response(status=403, text="forbidden")
        body = await request.read()
        try:
            update = Update.de_json(_json(body), self.app.bot)
            self.events.webhook_received(update.update_id)
        except (ValueError, TypeError, KeyError) as exc:
            self.events.log.warning("webhook body is not an update", error_type=type(exc).__name__, size=len(body))
            return web.Response(status=400, text="not an update")
        await self.app.update_queue.put(update)
        self.events.webhook_processed(update.update_id, (time.perf_counter() - start) * 1000.0)
        return web.Response(status=200)


def _json(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("expected a JSON object with an integer update_id")
    return data
