"""Outgoing Bot API calls: PTB's AIORateLimiter, plus a telegram_rate_limited event for every 429.

AIORateLimiter already waits out Telegram's RetryAfter and retries; it only says so in a
free-text INFO line. This subclass adds the catalogue event (method and retry_after), so
the monitor can count Telegram throttling like any other rate limit.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from .events import BotEvents

Answer = bool | dict[str, Any] | list[dict[str, Any]]


class ObservedRateLimiter(AIORateLimiter):
    """AIORateLimiter that logs telegram_rate_limited each time Telegram answers 429."""

    def __init__(self, events: BotEvents, *, max_retries: int = 2) -> None:
        super().__init__(max_retries=max_retries)
        self._events = events

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        """Run the call through AIORateLimiter, noting every RetryAfter on the way."""
        events = self._events

        async def observed(*call_args: Any, **call_kwargs: Any) -> Answer:
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                events.telegram_rate_limited(endpoint, exc.retry_after)
                raise

        return await super().process_request(observed, args, kwargs, endpoint, data, rate_limit_args)
