"""The gate every update passes first (a group=-1 TypeHandler): fresh context, allow-list, rate limit.

PTB handles updates one after another in one task, so context bound for one update is still
bound when the next starts; the gate clears it before binding this update's request id and
(masked) user. Refusals and "slow down" replies are sent at most once per rate window, so
a flood never makes the bot flood back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from crypto_observability.shared.context import bind_context, clear_context

from .events import BotEvents, RateLimiter

REFUSAL = ("Sorry, this bot is private and you are not on its list of users. "
           "If you think you should be, ask the person who runs it to add your Telegram user id.")
MAX_REMEMBERED = 10_000
SLOW_DOWN = "Whoa, slow down a little! You can send up to {limit} commands every {window}. Try again in a moment."


def command_of(update: Update) -> str | None:
    """The command an update carries ('price' for '/price@Bot btc'), or None for plain text."""
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class UpdateGate:
    """Binds a request id, refuses strangers and throttles floods before any command runs."""

    def __init__(self, allowed_user_ids: frozenset[int], limiter: RateLimiter, events: BotEvents,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.allowed = allowed_user_ids
        self.limiter = limiter  # logs rate_limit_hit itself, once per burst
        self.events = events
        self.clock = clock
        self._last_warned: dict[int, float] = {}

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Start each update with a clean context; stop it here when it must not go further."""
        clear_context()
        if not isinstance(update, Update):
            return
        user = update.effective_user
        self.events.start_update(update.update_id, user.id if user is not None else None)
        bind_context(request_id=uuid.uuid4().hex)
        if user is None:  # channel posts and the like: nobody to authorise, nothing to answer
            raise ApplicationHandlerStop
        command = command_of(update) or "message"
        if user.id not in self.allowed:
            self.events.user_authorization(command, False)
            await self._warn_once(update, user.id, REFUSAL)
            raise ApplicationHandlerStop
        self.events.user_authorization(command, True)
        if not self.limiter.check(user.id):
            text = SLOW_DOWN.format(limit=self.limiter.max_commands, window=_seconds(self.limiter.window_s))
            await self._warn_once(update, user.id, text)
            raise ApplicationHandlerStop

    async def _warn_once(self, update: Update, user_id: int, text: str) -> None:
        """Reply unless this user was already told within the rate window."""
        now = self.clock()
        last = self._last_warned.get(user_id)
        if last is not None and now - last < self.limiter.window_s:
            return
        if len(self._last_warned) >= MAX_REMEMBERED:  # a stranger flood must not grow memory forever
            self._last_warned = {u: t for u, t in self._last_warned.items() if now - t < self.limiter.window_s}
        self._last_warned[user_id] = now
        if update.effective_message is None:
            return
        try:
            await update.effective_message.reply_text(text)
        except TelegramError as exc:  # the update stops here either way; the reply is a courtesy
            self.events.log.warning("could not send the refusal", error_type=type(exc).__name__)


def _seconds(window_s: float) -> str:
    return f"{window_s:g} seconds" if window_s != 60 else "minute"
