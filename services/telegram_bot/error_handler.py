"""The error handler: every exception a handler raises reaches the user in plain words and the log classified.

Registered with add_error_handler, it runs in the failed update's task, so its record
carries that update's request id and masked user. Errors PTB reports without an update
(a failed getUpdates poll, retried by PTB) are logged at WARNING when they are transient.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes

from crypto_observability.shared.errors import classify

from .events import BotEvents
from .gate import command_of
from .market_client import MarketDataUnavailable

MARKET_DOWN = "Sorry, I can't reach the market data service right now. Please try again in a minute."
NO_EXCHANGE = "Sorry, no exchange answered just now ({why}). Please try again in a minute."
TELEGRAM_BUSY = "Sorry, Telegram is busy right now. Please try again in a moment."
SOMETHING_BROKE = "Sorry, something went wrong on my side. It has been logged; please try again later."


def user_message(error: BaseException) -> str:
    """What to tell the user about an error, in plain words and without internals."""
    if isinstance(error, MarketDataUnavailable):
        if error.exchanges_failed:
            failed = sorted(error.exchanges_failed.items())
            why = ", ".join(f"{name}: {kind.replace('_', ' ')}" for name, kind in failed)
            return NO_EXCHANGE.format(why=why)
        return MARKET_DOWN
    if isinstance(error, (RetryAfter, TimedOut, NetworkError)):
        return TELEGRAM_BUSY
    return SOMETHING_BROKE


def classification(error: BaseException) -> tuple[str, str]:
    """(category, severity): the error's own when it carries one, otherwise the library's classification."""
    category, severity = getattr(error, "category", None), getattr(error, "severity", None)
    if isinstance(category, str) and isinstance(severity, str):
        return category, severity
    return classify(error)


class ErrorReporter:
    """Logs an error classified, then tells the user what happened if there is a user to tell."""

    def __init__(self, events: BotEvents) -> None:
        self.events = events

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's error callback."""
        error = context.error
        if error is None:
            return
        category, severity = classification(error)
        if isinstance(error, RetryAfter):
            self.events.telegram_rate_limited("unknown", error.retry_after)
        if not isinstance(update, Update):
            self._log_background(error, category, severity)
            return
        self.events.log.error(f"command failed: {type(error).__name__}", category=category, severity=severity,
                              command=command_of(update), exc_info=error)
        await self._tell(update, user_message(error))

    def _log_background(self, error: BaseException, category: str, severity: str) -> None:
        """An error outside any update (polling); transient network trouble is only a warning."""
        if category in ("network", "timeout"):
            self.events.log.warning(f"telegram polling trouble: {type(error).__name__}", category=category,
                                    error_type=type(error).__name__)
            return
        self.events.log.error(f"bot error outside an update: {type(error).__name__}", category=category,
                              severity=severity, exc_info=error)

    async def _tell(self, update: Update, text: str) -> None:
        if update.effective_message is None:
            return
        try:
            await update.effective_message.reply_text(text)
        except TelegramError as exc:  # nothing more to do for this user; the error is already logged
            self.events.log.warning("could not tell the user about the error", error_type=type(exc).__name__)
