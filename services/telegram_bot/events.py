"""The bot's log events in one adapter over the shared BotLogger, so a change of API is a one-file change.

BotLogger (bot_logger.py) owns the event names and fields of the catalogue (bot_command,
user_authorization, market_data_request/response, rate_limit_hit, webhook_*, ...); this
module adds the one or two events the bot needs that it does not have, and the plain
StructuredLogger (`.log`) for start-up and error lines.
"""

from __future__ import annotations

from logging import INFO, WARNING

from crypto_observability.shared.structured_logger import StructuredLogger, create_structured_logger

from .bot_logger import BotLogger, CommandTimer, RateLimiter

__all__ = ["BotEvents", "CommandTimer", "RateLimiter"]

SERVICE = "telegram-bot"


class BotEvents(BotLogger):
    """BotLogger, plus a market-data call that got no answer at all and a plain logger for the rest."""

    def __init__(self, slog: StructuredLogger | None = None) -> None:
        super().__init__(slog or create_structured_logger(SERVICE, "bot"))

    @property
    def log(self) -> StructuredLogger:
        """The StructuredLogger behind the events, for lines that are not catalogue events."""
        return self.slog

    def market_data_unanswered(self, endpoint: str, response_time_ms: float, error_type: str) -> None:
        """market-data could not be reached (no status code): a failed dependency_call, WARNING.

        The user-facing failure is logged once, classified, by the error handler; this line only
        says which call failed and how long it took to fail.
        """
        self.slog.dependency_call("market-data", endpoint, False, round(response_time_ms, 3), error_type=error_type)

    def health_check(self, component: str, healthy: bool, response_time_ms: float, status_code: int | None,
                     error_type: str | None = None) -> None:
        """A dependency's health, at INFO (WARNING when unhealthy), so connectivity is visible at the default level."""
        context = {"component": component, "healthy": healthy, "response_time_ms": response_time_ms,
                   "status_code": status_code, **({"error_type": error_type} if error_type else {})}
        self.slog.log(INFO if healthy else WARNING, f"{component} {'healthy' if healthy else 'unhealthy'}", context,
                      event="health_check")
