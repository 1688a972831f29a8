"""The bot's client for market-data: one httpx client that sends each update's request id.

An async request hook copies the bound request_id into X-Request-ID, so one journey spans
the bot, market-data and every exchange call under it. Failures become a small tree:

    MarketDataError            something stopped market-data from answering usefully
    ├── UnknownSymbol          404: the symbol is not listed anywhere (the user's mistake)
    └── MarketDataUnavailable  refused, timed out, 5xx, or no exchange answered
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from crypto_observability.shared.context import get_context
from crypto_observability.shared.errors import classify

from .events import BotEvents

ENDPOINTS = ("price", "oi", "volume", "indicators", "long-short")
DEFAULT_QUOTE = "USDT"
_QUOTES = ("USDT", "USDC")
_SYMBOL = re.compile(r"^[A-Z0-9]{1,15}(?:[/-]?[A-Z0-9]{2,10})?$")


class MarketDataError(Exception):
    """market-data could not give a useful answer; category and severity classify it."""

    category, severity = "dependency", "medium"


class UnknownSymbol(MarketDataError):
    """market-data does not know the symbol (HTTP 404)."""

    category, severity = "not_found", "low"

    def __init__(self, symbol: str, detail: str) -> None:
        self.symbol, self.detail = symbol, detail
        super().__init__(f"unknown symbol {symbol}: {detail}")


class MarketDataUnavailable(MarketDataError):
    """market-data was unreachable, failed, or no exchange answered; exchanges_failed says why."""

    def __init__(self, reason: str, *, status_code: int | None = None,
                 exchanges_failed: dict[str, str] | None = None, cause: BaseException | None = None) -> None:
        self.reason, self.status_code = reason, status_code
        self.exchanges_failed = exchanges_failed or {}
        if cause is not None:
            self.category, self.severity = classify(cause)
        elif status_code == 503:
            self.category, self.severity = "unavailable", "high"
        else:
            self.category, self.severity = "dependency", "high"
        super().__init__(reason)


class BadSymbol(ValueError):
    """What the user typed cannot be a trading symbol."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"{text!r} is not a symbol: expected letters and digits like BTC, ETH/USDT or SOL-USDT")


def normalise_symbol(text: str) -> str:
    """Upper-case what the user typed and default the quote: btc -> BTC-USDT, eth/usdt -> ETH-USDT."""
    symbol = text.strip().upper()
    if not _SYMBOL.match(symbol):
        raise BadSymbol(text)
    symbol = symbol.replace("/", "-")  # a slash would end the URL path segment
    if "-" in symbol or any(symbol.endswith(q) and len(symbol) > len(q) + 1 for q in _QUOTES):
        return symbol
    return f"{symbol}-{DEFAULT_QUOTE}"


async def add_request_id(request: httpx.Request) -> None:
    """httpx request hook: send the bound request id as X-Request-ID."""
    request_id = get_context().get("request_id")
    if request_id and "X-Request-ID" not in request.headers:
        request.headers["X-Request-ID"] = request_id


def instrument(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Make a client send X-Request-ID on every request (idempotent)."""
    hooks = client.event_hooks
    if add_request_id not in hooks["request"]:
        client.event_hooks = {**hooks, "request": [*hooks["request"], add_request_id]}
    return client


class MarketDataClient:
    """Asks market-data for one thing at a time and turns its answers into dicts or errors."""

    def __init__(self, base_url: str, events: BotEvents, http_client: httpx.AsyncClient | None = None,
                 timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.events = events
        self._owned = http_client is None
        self.http = instrument(http_client or httpx.AsyncClient(timeout=timeout_s))

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owned:
            await self.http.aclose()

    async def get(self, endpoint: str, symbol: str, **params: str) -> dict[str, Any]:
        """GET /<endpoint>/<symbol>; raise UnknownSymbol or MarketDataUnavailable when it fails."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint {endpoint!r} is not one of {', '.join(ENDPOINTS)}")
        request_id = get_context().get("request_id")
        self.events.market_data_request(endpoint, symbol, request_id or "")
        start = time.perf_counter()
        try:
            response = await self.http.get(f"{self.base_url}/{endpoint}/{symbol}", params=params or None)
        except httpx.HTTPError as exc:
            self.events.market_data_unanswered(endpoint, _ms(start), type(exc).__name__)
            raise MarketDataUnavailable(f"market-data did not answer ({type(exc).__name__})", cause=exc) from exc
        self.events.market_data_response(endpoint, response.status_code, _ms(start), request_id or "")
        return _answer(response, symbol)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _answer(response: httpx.Response, symbol: str) -> dict[str, Any]:
    body = _json(response)
    if response.status_code == 404:
        raise UnknownSymbol(symbol, str(body.get("detail") or "not found"))
    if response.status_code >= 400:
        failed = body.get("exchanges_failed")
        raise MarketDataUnavailable(f"market-data answered {response.status_code}: {body.get('detail', '')}",
                                    status_code=response.status_code,
                                    exchanges_failed=failed if isinstance(failed, dict) else None)
    if not body:
        raise MarketDataUnavailable("market-data answered with no data", status_code=response.status_code)
    return body


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
