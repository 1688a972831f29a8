"""build_application(): the configured python-telegram-bot Application, the library entry tests use.

Handlers: the gate in group -1 (context, allow-list, rate limit), the commands in group 0,
one error handler. Outgoing Bot API calls go through AIORateLimiter (logging each 429), which
waits out Telegram's RetryAfter instead of failing the reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from .commands import Commands
from .error_handler import ErrorReporter
from .events import BotEvents, RateLimiter
from .gate import UpdateGate
from .market_client import MarketDataClient
from .settings import BotSettings
from .telegram_rate_limit import ObservedRateLimiter

MARKET_KEY = "market_data_client"


def build_application(settings: BotSettings, http_client: httpx.AsyncClient | None = None, *,
                      clock: Callable[[], float] = time.monotonic) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the bot for these settings; http_client (if given) is used for market-data and not closed."""
    events = BotEvents()
    builder = ApplicationBuilder().token(settings.token).rate_limiter(ObservedRateLimiter(events, max_retries=2))
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url).base_file_url(file_url(settings.api_base_url))
    app = builder.build()
    market = MarketDataClient(settings.market_data_url, events, http_client, settings.market_data_timeout_s)
    app.bot_data[MARKET_KEY] = market
    limiter = RateLimiter(settings.rate_limit_commands, settings.rate_limit_window_s, clock, events)
    gate = UpdateGate(settings.allowed_user_ids, limiter, events, clock)
    app.add_handler(TypeHandler(Update, gate), group=-1)
    app.add_handlers(Commands(market, events).handlers())
    app.add_error_handler(ErrorReporter(events))
    _announce(settings, events)
    return app


async def close_application(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Release what build_application opened beside PTB (the market-data HTTP client, if owned)."""
    market = app.bot_data.get(MARKET_KEY)
    if isinstance(market, MarketDataClient):
        await market.aclose()


def file_url(base_url: str) -> str:
    """The file URL beside a Bot API base URL: .../bot -> .../file/bot (PTB's own layout)."""
    root, _, last = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}" if root else f"{base_url}/file"


def _announce(settings: BotSettings, events: BotEvents) -> None:
    """Say at start-up what the bot will do, and warn when it will refuse everyone."""
    events.log.info("telegram bot configured", mode=settings.mode, simulated_api=bool(settings.api_base_url),
                    market_data_url=settings.market_data_url, allowed_users=len(settings.allowed_user_ids),
                    rate_limit_commands=settings.rate_limit_commands,
                    rate_limit_window_s=settings.rate_limit_window_s)
    if not settings.allowed_user_ids:
        events.log.warning("ALLOWED_USER_IDS is empty: the bot will refuse every user until ids are listed there")
