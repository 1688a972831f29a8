"""ExchangeLogger: every ccxt call logged, measured and checked, without touching the calling code.

    logged = ExchangeLogger(slog).wrap(ccxt.async_support.okx())
    ticker = await logged.fetch_ticker("BTC/USDT:USDT")   # exchange_api_call, metrics, data quality

Errors map from ccxt's exception tree by class name, so this module never imports ccxt; the
caller's exception is always re-raised unchanged. The proxy lives in _exchange_proxy, checks and
cross-exchange helpers in _exchange_quality, rolling figures in _exchange_metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _exchange_quality as quality
from ._exchange_metrics import RollingMetrics
from ._exchange_proxy import LoggedExchange, error_type, retry_after_of
from .errors import error_info
from .structured_logger import StructuredLogger

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_ERROR_LEVELS = {"auth": ERROR, "exchange": ERROR, "internal": ERROR}
_CREDENTIALS = ("apiKey", "secret", "password", "uid", "login", "privateKey", "token", "twofa")
__all__ = ["ExchangeLogger", "LoggedExchange", "error_type", "retry_after_of", "route_ccxt_output"]


class ExchangeLogger:
    """Logs ccxt calls, keeps rolling per-exchange metrics and checks the data that comes back."""

    def __init__(self, slog: StructuredLogger, *, clock: Callable[[], float] = time.time,
                 timer: Callable[[], float] = time.perf_counter, max_age_s: float = 60.0,
                 oi_max_age_s: float = 7200.0,
                 outlier_pct: float = 2.0, lag_warn_ms: float = 2000.0, metrics_calls: int = 500,
                 metrics_window_s: float = 300.0) -> None:
        self.slog = slog
        self.clock = clock
        self.timer = timer
        self.max_age_s = max_age_s
        self.oi_max_age_s = oi_max_age_s
        self.outlier_pct = outlier_pct
        self.lag_warn_ms = lag_warn_ms
        self._metrics = RollingMetrics(metrics_calls, metrics_window_s, clock)

    def wrap(self, exchange: Any, *, route_output: bool = True) -> LoggedExchange:
        """Return a proxy whose fetch_*/watch_*/load_markets coroutines are logged; routes verbose output."""
        if route_output:
            route_ccxt_output(exchange, self.slog)
        return LoggedExchange(exchange, self)

    def route_ccxt_output(self, exchange: Any) -> None:
        """Send the exchange's verbose print()s and its ccxt logger through our logging."""
        route_ccxt_output(exchange, self.slog)

    def record_call(self, exchange: str, method: str, symbol: str | None, response_time_ms: float,
                    exc: BaseException | None = None, retry_after: float | None = None,
                    level: int = INFO) -> None:
        """Log one exchange_api_call (and rate_limit_hit) and count it in the rolling metrics."""
        kind = None if exc is None else error_type(exc)
        self._metrics.record(exchange, response_time_ms, exc is None, kind)
        context: dict[str, Any] = {"exchange": exchange, "method": method}
        if symbol is not None:
            context["symbol"] = symbol
        context["success"] = exc is None
        context["response_time_ms"] = round(response_time_ms, 3)
        if exc is None:
            self.slog.log(level, f"{exchange} {method} ok", context, event="exchange_api_call")
            return
        assert kind is not None
        context["error_type"] = kind
        if retry_after is not None:
            context["retry_after"] = retry_after
        self.slog.log(_ERROR_LEVELS.get(kind, WARNING), f"{exchange} {method} failed: {kind}", context,
                      event="exchange_api_call", error=error_info(exc))
        if kind == "rate_limit":
            self.rate_limit_hit(exchange, method, retry_after)

    def rate_limit_hit(self, exchange: str, method: str, retry_after: float | None = None) -> None:
        """An exchange throttled us (429, 418 or its own rate-limit code)."""
        context: dict[str, Any] = {"scope": "exchange", "exchange": exchange, "method": method}
        if retry_after is not None:
            context["retry_after"] = retry_after
        self.slog.log(WARNING, f"{exchange} rate limit hit on {method}", context, event="rate_limit_hit")

    def check_answer(self, exchange: str, method: str, symbol: str | None, answer: Any) -> list[str]:
        """Check a ticker, order book or open-interest answer; log data_quality_issue when flagged."""
        flags, facts = quality.answer_flags(method, answer, self.clock(), self.max_age_s,
                                            self.oi_max_age_s)
        if flags:
            self.data_quality_issue(exchange, symbol, method, flags, **facts)
        return flags

    def data_quality_issue(self, exchange: str, symbol: str | None, method: str, flags: list[str],
                           **facts: Any) -> None:
        """Log that an answer came back but cannot be trusted, and why."""
        self.slog.log(WARNING, f"{exchange} {method} {symbol}: {', '.join(flags)}",
                      {"exchange": exchange, "symbol": symbol, "method": method, "flags": flags, **facts},
                      event="data_quality_issue")

    def check_cross_exchange(self, symbol: str, prices_by_exchange: Mapping[str, Any]) -> dict[str, float]:
        """Flag exchanges whose price (number or ticker) is more than outlier_pct % from the median."""
        median, deviations = quality.outliers(prices_by_exchange, self.outlier_pct)
        for exchange, deviation in deviations.items():
            self.data_quality_issue(exchange, symbol, "cross_exchange", [quality.OUTLIER],
                                    median=median, deviation_pct=deviation)
        return deviations

    def detect_arbitrage(self, symbol: str, tickers_by_exchange: Mapping[str, Any], fee_pct: float = 0.1,
                         threshold_pct: float = 0.0) -> dict[str, Any] | None:
        """Log arbitrage_opportunity when the best cross-exchange spread beats two legs of fees plus threshold."""
        best = quality.best_arbitrage(tickers_by_exchange, fee_pct)
        if best is None or best["net_spread_pct"] <= threshold_pct:
            return None
        opportunity = {"symbol": symbol, **best, "fee_pct": fee_pct, "threshold_pct": threshold_pct}
        self.slog.log(INFO, f"arbitrage {symbol}: buy {best['buy_exchange']}, sell {best['sell_exchange']}",
                      {"name": "arbitrage_opportunity", **opportunity}, event="arbitrage_opportunity")
        return opportunity

    def metrics(self, exchange: str) -> dict[str, Any]:
        """One exchange's rolling figures (success_rate, p50_ms, p95_ms, rate_limit_count, ...)."""
        return self._metrics.metrics(exchange)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every exchange's rolling figures."""
        return self._metrics.snapshot()

    def log_metrics(self) -> dict[str, dict[str, Any]]:
        """Log one exchange_metrics event per exchange (call it on a timer); returns the snapshot."""
        snapshot = self.snapshot()
        for exchange, figures in snapshot.items():
            self.slog.log(INFO, f"{exchange} metrics", dict(figures), event="exchange_metrics")
        return snapshot

    def ws_connected(self, exchange: str, stream: str, url: str | None = None) -> None:
        """A WebSocket connection opened."""
        self._ws(INFO, "ws_connected", exchange, stream, url=url)

    def ws_disconnected(self, exchange: str, stream: str, reason: str | None = None) -> None:
        """A WebSocket connection closed or failed."""
        self._ws(WARNING, "ws_disconnected", exchange, stream, reason=reason)

    def ws_reconnect(self, exchange: str, stream: str, attempt: int = 1) -> None:
        """A stream came back after a disconnect."""
        self._ws(INFO, "ws_reconnect", exchange, stream, attempt=attempt)

    def ws_subscription(self, exchange: str, stream: str, symbol: str | None = None) -> None:
        """A stream was subscribed to."""
        self._ws(INFO, "ws_subscription", exchange, stream, symbol=symbol)

    def ws_message_lag(self, exchange: str, stream: str, lag_ms: float) -> None:
        """How old a pushed message was on arrival: DEBUG, WARNING above lag_warn_ms."""
        level = WARNING if lag_ms > self.lag_warn_ms else DEBUG
        if self.slog.is_enabled_for(level):
            self._ws(level, "ws_message_lag", exchange, stream, lag_ms=round(lag_ms, 3))

    def _ws(self, level: int, event: str, exchange: str, stream: str, **extra: Any) -> None:
        context = {"exchange": exchange, "stream": stream, **{k: v for k, v in extra.items() if v is not None}}
        self.slog.log(level, f"{exchange} {stream} {event.removeprefix('ws_').replace('_', ' ')}", context,
                      event=event)


class _ScrubbingAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """ccxt's own logger for one exchange, with its credential values cut out before the handler."""

    def __init__(self, logger: logging.Logger, secrets: list[str], exchange_id: str) -> None:
        super().__init__(logger, {"exchange": exchange_id})
        self.secrets = secrets

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        """Format, scrub, then hand to the real logger."""
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            self.logger.log(level, _scrub(text, self.secrets), **kwargs)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def route_ccxt_output(exchange: Any, slog: StructuredLogger) -> None:
    """Make the exchange's verbose print()s ccxt_verbose DEBUG events and scrub its ccxt logger's lines.

    Both roads go through the record pipeline's redaction too; the credential values of this
    exchange are cut out first, whatever shape ccxt printed them in.
    """
    secrets = [v for name in _CREDENTIALS if isinstance(v := getattr(exchange, name, None), str) and len(v) >= 4]
    exchange_id = str(getattr(exchange, "id", "exchange"))

    def log(*args: Any) -> None:
        if slog.is_enabled_for(DEBUG):
            text = _scrub(" ".join(str(a) for a in args).strip(), secrets)
            slog.log(DEBUG, text[:8192], {"exchange": exchange_id}, event="ccxt_verbose")

    exchange.log = log
    exchange.logger = _ScrubbingAdapter(logging.getLogger("ccxt.base.exchange"), secrets, exchange_id)
