"""BotLogger: the Telegram bot's events, with every user identity masked on the way out.

    blog = BotLogger()
    blog.start_update(update.update_id, update.effective_user.id)   # clears and binds context
    with blog.command("price", context.args):                        # bot_command_received, bot_command
        ...

User ids are taken raw and only ever bound as the record's `user` key, which the library
replaces with a keyed hash; no context field carries a raw id. RateLimiter is the per-user
sliding window that answers "is this user flooding us" and reports it once per burst.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

from crypto_observability.shared.context import bind_context, bound_context, clear_context
from crypto_observability.shared.errors import classify, error_info
from crypto_observability.shared.structured_logger import StructuredLogger, create_structured_logger

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
__all__ = ["BotLogger", "CommandTimer", "RateLimiter", "normalise_command"]


def normalise_command(command: str) -> str:
    """/price@CryptoBot -> price: one spelling per command, whatever chat it came from."""
    return command.strip().lstrip("/").split("@", 1)[0].lower() or "unknown"


class BotLogger:
    """Typed events for the telegram-bot service."""

    def __init__(self, slog: StructuredLogger | None = None, *, timer: Callable[[], float] = time.perf_counter) -> None:
        self.slog = slog or create_structured_logger("telegram-bot", "bot_logger")
        self.timer = timer

    def _emit(self, level: int, message: str, context: dict[str, Any], event: str, user_id: object = None,
              error: Any = None) -> None:
        if user_id is None:
            self.slog.log(level, message, context, event=event, error=error)
            return
        with bound_context(user=user_id):  # masked by the library, never a context field
            self.slog.log(level, message, context, event=event, error=error)

    def _security(self, kind: str, severity: str, context: dict[str, Any], user_id: object = None) -> None:
        self._emit(WARNING, f"security: {kind.replace('_', ' ')}", {"kind": kind, "severity": severity, **context},
                   "security_event", user_id)

    def start_update(self, update_id: int, user_id: object = None) -> None:
        """Forget the previous update's context, then bind this update's id and (masked) user."""
        clear_context()
        bind_context(update_id=update_id, user=user_id)

    def command_received(self, command: str, args: Sequence[str] = (), user_id: object = None) -> None:
        """A command arrived (its arguments are counted, never logged)."""
        self._emit(INFO, f"/{normalise_command(command)} received",
                   {"command": normalise_command(command), "args_count": len(args)}, "bot_command_received", user_id)

    def command_executed(self, command: str, success: bool, response_time_ms: float, error_type: str | None = None,
                         user_id: object = None, error: BaseException | None = None) -> None:
        """A command finished, with its timing and outcome."""
        name = normalise_command(command)
        context: dict[str, Any] = {"command": name, "success": success, "response_time_ms": round(response_time_ms, 3)}
        if error_type is not None:
            context["error_type"] = error_type
        level = INFO if success else (ERROR if error is not None else WARNING)
        self._emit(level, f"/{name} {'done' if success else 'failed'}", context, "bot_command", user_id,
                   error_info(error) if error is not None else None)

    def command(self, command: str, args: Sequence[str] = (), user_id: object = None) -> CommandTimer:
        """Time a command: logs bot_command_received now and bot_command when the block ends."""
        return CommandTimer(self, command, args, user_id)

    def user_authorization(self, command: str, authorized: bool, user_id: object = None) -> None:
        """The allow-list said yes (DEBUG) or no (WARNING, plus a security_event)."""
        name = normalise_command(command)
        self._emit(DEBUG if authorized else WARNING, f"/{name} {'authorized' if authorized else 'denied'}",
                   {"command": name, "authorized": authorized}, "user_authorization", user_id)
        if not authorized:
            self._security("unauthorized_command", "medium", {"command": name}, user_id)

    def market_data_request(self, endpoint: str, symbol: str | None, request_id: str) -> None:
        """The bot asks market-data; request_id is the X-Request-ID that travels with it."""
        self.slog.log(DEBUG, f"market-data {endpoint}", {"endpoint": endpoint, "symbol": symbol,
                                                         "request_id": request_id}, event="market_data_request")

    def market_data_response(self, endpoint: str, status_code: int, response_time_ms: float, request_id: str) -> None:
        """market-data answered: INFO below 400, else WARNING (0: no answer); the failed command logs the ERROR."""
        success = 0 < status_code < 400
        level = INFO if success else WARNING
        self.slog.log(level, f"market-data {endpoint} -> {status_code}",
                      {"endpoint": endpoint, "status_code": status_code, "success": success,
                       "response_time_ms": round(response_time_ms, 3), "request_id": request_id},
                      event="market_data_response")

    def message_formatted(self, command: str, response_time_ms: float, length: int) -> None:
        """How long building a reply took and how long it is (Telegram caps messages at 4096)."""
        self.slog.log(DEBUG, f"/{normalise_command(command)} reply formatted",
                      {"command": normalise_command(command), "response_time_ms": round(response_time_ms, 3),
                       "length": length}, event="message_formatted")

    def rate_limit_hit(self, limit: int, window_s: float, user_id: object = None) -> None:
        """A user went over the per-user command limit (also a low-severity security_event)."""
        self._emit(WARNING, f"user over {limit} commands in {window_s:g}s",
                   {"scope": "user", "limit": limit, "window_s": window_s}, "rate_limit_hit", user_id)
        self._security("suspicious_rate", "low", {"limit": limit, "window_s": window_s}, user_id)

    def telegram_rate_limited(self, method: str, retry_after: float | timedelta) -> None:
        """Telegram answered 429 (RetryAfter): which Bot API method, and for how long."""
        seconds = retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
        self.slog.log(WARNING, f"Telegram rate limited {method} for {seconds:g}s",
                      {"method": method, "retry_after": seconds}, event="telegram_rate_limited")

    def webhook_received(self, update_id: int) -> None:
        """An update arrived on the webhook."""
        self.slog.log(DEBUG, f"webhook update {update_id}", {"update_id": update_id}, event="webhook_received")

    def webhook_rejected(self, reason: str = "bad_secret_token") -> None:
        """A webhook call was refused (wrong secret token): also a security_event."""
        self.slog.log(WARNING, f"webhook rejected: {reason}", {"reason": reason}, event="webhook_rejected")
        self._security("webhook_rejected", "high", {"reason": reason})

    def webhook_processed(self, update_id: int, response_time_ms: float, success: bool = True) -> None:
        """A webhook update was handled, with its processing time."""
        self.slog.log(INFO if success else ERROR, f"webhook update {update_id} processed",
                      {"update_id": update_id, "response_time_ms": round(response_time_ms, 3), "success": success},
                      event="webhook_processed")


class CommandTimer:
    """The block of one command: success unless it raises or fail() is called."""

    def __init__(self, logger: BotLogger, command: str, args: Sequence[str], user_id: object) -> None:
        self._logger, self.command, self._args, self._user = logger, command, args, user_id
        self.error_type: str | None = None
        self._start = 0.0

    def fail(self, error_type: str) -> None:
        """Mark the command failed without an exception (a refusal, a bad symbol answered politely)."""
        self.error_type = error_type

    def __enter__(self) -> CommandTimer:
        self._logger.command_received(self.command, self._args, self._user)
        self._start = self._logger.timer()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        elapsed = (self._logger.timer() - self._start) * 1000.0
        if exc is not None:
            self._logger.command_executed(self.command, False, elapsed, classify(exc)[0], self._user, exc)
        else:
            self._logger.command_executed(self.command, self.error_type is None, elapsed, self.error_type,
                                          self._user)


class RateLimiter:
    """Per-user sliding window: at most max_commands in window_s seconds; one report per burst."""

    def __init__(self, max_commands: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 logger: BotLogger | None = None) -> None:
        if max_commands < 1 or window_s <= 0:
            raise ValueError(f"max_commands must be >= 1 and window_s > 0, got {max_commands} and {window_s}")
        self.max_commands, self.window_s = max_commands, window_s
        self._clock = clock
        self._logger = logger
        self._seen: dict[object, deque[float]] = {}
        self._bursting: set[object] = set()
        self._checks = 0

    def check(self, user_id: object) -> bool:
        """True when the user may run a command now (and count it); False while over the limit."""
        now = self._clock()
        self._checks += 1
        if self._checks % 1024 == 0:
            self._sweep(now)
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        if len(stamps) < self.max_commands:
            stamps.append(now)
            self._bursting.discard(user_id)
            return True
        if user_id not in self._bursting:
            self._bursting.add(user_id)
            if self._logger is not None:
                self._logger.rate_limit_hit(self.max_commands, self.window_s, user_id)
        return False

    def _sweep(self, now: float) -> None:
        """Forget users with nothing in the window, so memory follows active users only."""
        for user_id in [u for u, s in self._seen.items() if not s or s[-1] <= now - self.window_s]:
            del self._seen[user_id]
            self._bursting.discard(user_id)
