"""The market-data FastAPI application: routes, request logging, error answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from crypto_observability.shared.asgi import RequestLoggingMiddleware
from crypto_observability.shared.config_event import log_config_loaded
from crypto_observability.shared.context import get_context
from crypto_observability.shared.structured_logger import create_structured_logger

from .cache import TTLCache
from .config import MarketDataSettings
from .exchanges import ExchangePool
from .heartbeat import Heartbeat
from .market_logger import MarketLogger
from .service import MarketData, NoExchangeAnswered
from .symbols import UnknownSymbol


def create_app(settings: MarketDataSettings | None = None) -> FastAPI:
    """Build the app; exchanges are opened at start-up and closed at shutdown."""
    settings = settings or MarketDataSettings.from_env()
    log = create_structured_logger("market-data", "api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events = MarketLogger()
        pool = ExchangePool(settings, events.wrap_exchange)
        cache = TTLCache(settings.cache_ttl_s, events)
        app.state.market = MarketData(pool, cache, events)
        log_config_loaded(log, "market-data", settings)
        log.info("market-data started", exchanges=list(settings.exchanges), simulated=bool(settings.simulator_url))
        heartbeat = Heartbeat(events, cache, settings.exchanges, settings.heartbeat_s)
        beating = asyncio.create_task(heartbeat.run())
        try:
            yield
        finally:
            beating.cancel()
            heartbeat.beat()  # the last partial interval
            await pool.close()
            log.info("market-data stopped")

    app = FastAPI(title="market-data", version="1.0", lifespan=lifespan,
                  description="Prices, open interest, volume, indicators and long/short ratios across exchanges.")
    app.add_middleware(RequestLoggingMiddleware, logger=create_structured_logger("market-data", "http"))
    _routes(app)
    _error_answers(app)
    return app


def _symbol(request: Request, raw: str) -> str:
    """The canonical BASE-QUOTE for whatever spelling the caller used (USDT when no quote is given)."""
    return request.app.state.market.events.harmonise_symbol(raw, default_quote="USDT")  # type: ignore[no-any-return]


def _routes(app: FastAPI) -> None:
    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """Readiness: exchanges are configured."""
        market = getattr(request.app.state, "market", None)
        if market is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready", "exchanges": list(market.pool.settings.exchanges)})

    @app.get("/price/{symbol}")
    async def price(symbol: str, request: Request) -> dict[str, Any]:
        """Last price on every exchange, with the median."""
        return await request.app.state.market.price(_symbol(request, symbol))  # type: ignore[no-any-return]

    @app.get("/oi/{symbol}")
    async def open_interest(symbol: str, request: Request) -> dict[str, Any]:
        """Open interest in USD per exchange and in total; partial when some exchanges fail."""
        return await request.app.state.market.open_interest(_symbol(request, symbol))  # type: ignore[no-any-return]

    @app.get("/volume/{symbol}")
    async def volume(symbol: str, request: Request) -> dict[str, Any]:
        """24 h quote volume per exchange and in total."""
        return await request.app.state.market.volume(_symbol(request, symbol))  # type: ignore[no-any-return]

    @app.get("/indicators/{symbol}")
    async def indicators(symbol: str, request: Request, timeframe: str = "1h") -> dict[str, Any]:
        """RSI, MACD, EMA and Bollinger bands."""
        return await request.app.state.market.indicators(_symbol(request, symbol), timeframe)  # type: ignore[no-any-return]

    @app.get("/long-short/{symbol}")
    async def long_short(symbol: str, request: Request) -> dict[str, Any]:
        """Long/short account ratio per exchange."""
        return await request.app.state.market.long_short(_symbol(request, symbol))  # type: ignore[no-any-return]


def _error_answers(app: FastAPI) -> None:
    @app.exception_handler(UnknownSymbol)
    async def unknown_symbol(request: Request, exc: UnknownSymbol) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "request_id": get_context().get("request_id")}, status_code=404)

    @app.exception_handler(NoExchangeAnswered)
    async def no_exchange(request: Request, exc: NoExchangeAnswered) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "exchanges_failed": exc.failures,
                             "request_id": get_context().get("request_id")}, status_code=503)
