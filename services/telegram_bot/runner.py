"""run_bot(): start the Application in polling or webhook mode, run until told to stop, stop cleanly.

A library function, so tests run the whole bot with a stop event instead of a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from telegram import Update

from crypto_observability.shared.config_event import log_config_loaded

from .application import build_application, close_application
from .events import BotEvents
from .health import INTERVAL_S, watch_market_data
from .settings import BotSettings
from .webhook import WebhookServer

Ready = Callable[[dict[str, Any]], None]


async def run_bot(settings: BotSettings, *, stop: asyncio.Event | None = None,
                  http_client: httpx.AsyncClient | None = None, on_ready: Ready | None = None,
                  health_interval_s: float = INTERVAL_S) -> None:
    """Serve updates until stop is set (or SIGINT/SIGTERM when no event is given)."""
    stop = stop or _stop_on_signals()
    app = build_application(settings, http_client)
    events = BotEvents()
    log_config_loaded(events.log, "telegram-bot", settings)
    server: WebhookServer | None = None
    try:
        async with app:
            await app.start()
            if settings.mode == "webhook":
                server = await _start_webhook(app, settings, events)
            else:
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10)
            me = app.bot.username
            events.log.info("telegram bot started", mode=settings.mode, bot=me)
            if on_ready is not None:
                on_ready({"mode": settings.mode, "webhook_url": server.local_url if server else None})
            beating = None
            if settings.heartbeat_file:
                serving = (lambda: True) if server is not None else (lambda: bool(app.updater and app.updater.running))
                beating = asyncio.create_task(_heartbeat(Path(settings.heartbeat_file), serving))
            watching = asyncio.create_task(watch_market_data(settings.market_data_url, events, stop,
                                                             health_interval_s))
            await stop.wait()
            await watching
            if beating is not None:
                beating.cancel()
            events.log.info("telegram bot stopping", mode=settings.mode)
            if server is not None:
                await server.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
    finally:
        await close_application(app)
    events.log.info("telegram bot stopped")


async def _start_webhook(app: Any, settings: BotSettings, events: BotEvents) -> WebhookServer:
    """Serve the webhook locally, then tell Telegram where to post and with which secret."""
    settings.check_webhook()
    assert settings.webhook_secret_token is not None and settings.webhook_url is not None
    server = WebhookServer(app, settings.webhook_secret_token, events, host=settings.webhook_listen,
                           port=settings.webhook_port, path=settings.webhook_path)
    await server.start()
    await app.bot.set_webhook(url=settings.webhook_url, secret_token=settings.webhook_secret_token,
                              allowed_updates=Update.ALL_TYPES)
    return server


HEARTBEAT_INTERVAL_S = 10.0


async def _heartbeat(path: Path, serving: Callable[[], bool], interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
    """Touch path every interval while the bot serves updates: a hung loop or a dead updater goes stale."""
    while True:
        if serving():
            with contextlib.suppress(OSError):  # a full or read-only disk must not stop the bot
                path.touch()
        await asyncio.sleep(interval_s)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (docker stop), for a clean shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
