"""The proxy that ExchangeLogger.wrap() returns, and how a ccxt error becomes an error_type.

Attribute access on the proxy reaches the exchange; the API coroutines (fetch_*, watch_*,
load_markets, create_*, cancel_*, edit_*) come back timed, logged and checked, and are cached
on the proxy so the next lookup costs what a plain attribute costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import _exchange_quality as quality

if TYPE_CHECKING:
    from .exchange_logger import ExchangeLogger

DEBUG = 10

# Walked from the most derived class outwards; in ccxt 4.5 RateLimitExceeded is no DDoSProtection.
_ERROR_TYPES = {
    "RateLimitExceeded": "rate_limit", "DDoSProtection": "rate_limit", "RequestTimeout": "timeout",
    "OnMaintenance": "unavailable", "ExchangeNotAvailable": "unavailable", "NetworkError": "network",
    "AuthenticationError": "auth", "BadSymbol": "bad_symbol", "ExchangeError": "exchange",
    "BadResponse": "exchange",
}
_LOGGED_PREFIXES = ("fetch", "watch", "load_markets", "loadMarkets", "create", "cancel", "edit")


def error_type(exc: BaseException) -> str:
    """Map an exception to exchange_api_call's error_type from its class names (ccxt not imported)."""
    for cls in type(exc).__mro__:
        found = _ERROR_TYPES.get(cls.__name__)
        if found:
            return found
    return "internal"


def retry_after_of(exchange: Any) -> float | None:
    """Seconds from the last response's Retry-After header, when it holds a number."""
    headers = getattr(exchange, "last_response_headers", None) or {}
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class LoggedExchange:
    """A proxy over a ccxt exchange: logged coroutines for API calls, everything else passed through."""

    _exchange: Any
    _logger: ExchangeLogger
    _streams: dict[str, int]

    def __init__(self, exchange: Any, logger: ExchangeLogger) -> None:
        object.__setattr__(self, "_exchange", exchange)
        object.__setattr__(self, "_logger", logger)
        object.__setattr__(self, "_streams", {})  # stream -> disconnect count (-1 while connected)

    @property
    def unwrapped(self) -> Any:
        """The ccxt exchange underneath."""
        return self._exchange

    @property
    def exchange_logger(self) -> ExchangeLogger:
        """The ExchangeLogger this proxy reports to."""
        return self._logger

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._exchange, name)
        if callable(value) and name.startswith(_LOGGED_PREFIXES):
            wrapped = self._watch(name, value) if name.startswith("watch") else self._call(name, value)
            object.__setattr__(self, name, wrapped)  # the next lookup skips __getattr__
            return wrapped
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._exchange, name, value)

    async def __aenter__(self) -> LoggedExchange:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._exchange.close()

    def _call(self, method: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        exchange, logger = self._exchange, self._logger
        checked = method in quality.CHECKED_METHODS

        async def call(*args: Any, **kwargs: Any) -> Any:
            symbol = _symbol(args, kwargs)
            start = logger.timer()
            try:
                answer = await fn(*args, **kwargs)
            except Exception as exc:
                elapsed = (logger.timer() - start) * 1000.0
                retry = retry_after_of(exchange) if error_type(exc) == "rate_limit" else None
                logger.record_call(exchange.id, method, symbol, elapsed, exc, retry)
                raise
            logger.record_call(exchange.id, method, symbol, (logger.timer() - start) * 1000.0)
            if checked:
                logger.check_answer(exchange.id, method, symbol, answer)
            return answer

        call.__name__ = call.__qualname__ = method
        return call

    def _watch(self, method: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        exchange, logger, streams = self._exchange, self._logger, self._streams
        checked = method in quality.CHECKED_METHODS

        async def watch(*args: Any, **kwargs: Any) -> Any:
            symbol = _symbol(args, kwargs)
            stream = f"{method.removeprefix('watch_')}:{symbol}" if symbol else method
            before = set(getattr(exchange, "clients", None) or ())
            start = logger.timer()
            try:
                answer = await fn(*args, **kwargs)
            except Exception as exc:
                elapsed = (logger.timer() - start) * 1000.0
                logger.record_call(exchange.id, method, symbol, elapsed, exc, level=DEBUG)
                if streams.get(stream, 0) < 0:
                    streams[stream] = 0
                streams[stream] = streams.get(stream, 0) + 1
                logger.ws_disconnected(exchange.id, stream, error_type(exc))
                raise
            logger.record_call(exchange.id, method, symbol, (logger.timer() - start) * 1000.0, level=DEBUG)
            _note_stream(logger, exchange, stream, symbol, streams, before)
            timestamp = answer.get("timestamp") if isinstance(answer, Mapping) else None
            if isinstance(timestamp, int | float):
                logger.ws_message_lag(exchange.id, stream, logger.clock() * 1000.0 - timestamp)
            if checked:
                logger.check_answer(exchange.id, method, symbol, answer)
            return answer

        watch.__name__ = watch.__qualname__ = method
        return watch


def _note_stream(logger: ExchangeLogger, exchange: Any, stream: str, symbol: str | None,
                 streams: dict[str, int], before: set[str]) -> None:
    """Log connection, subscription and reconnection the first time a stream answers after each."""
    state = streams.get(stream)
    if state is not None and state < 0:
        return
    for url in set(getattr(exchange, "clients", None) or ()) - before:
        logger.ws_connected(exchange.id, stream, url)
    if state is None:
        logger.ws_subscription(exchange.id, stream, symbol)
    else:
        logger.ws_reconnect(exchange.id, stream, state)
    streams[stream] = -1


def _symbol(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    symbol = args[0] if args else kwargs.get("symbol")
    return symbol if isinstance(symbol, str) else None
