"""The bot's pending updates with Telegram's getUpdates semantics: ids, offsets, long polling, conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from .errors import bad_request, conflict

MAX_LIMIT = 100


def update_type(update: dict[str, Any]) -> str:
    """Name the kind of an update ("message", "callback_query", ...)."""
    return next((k for k in update if k != "update_id"), "")


class UpdateQueue:
    """Updates waiting for the bot; confirmed (dropped) only by a later offset, never by delivery."""

    def __init__(self, first_update_id: int = 1) -> None:
        if first_update_id < 1:
            raise ValueError(f"first_update_id must be >= 1, got {first_update_id!r}")
        self._pending: list[dict[str, Any]] = []
        self._next_id = first_update_id
        self._allowed: frozenset[str] | None = None
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closed = False
        self.issued = 0  # updates ever pushed

    def push(self, body: dict[str, Any]) -> dict[str, Any]:
        """Append an update (body without update_id), giving it the next increasing id."""
        update = {"update_id": self._next_id, **body}
        self._next_id += 1
        self.issued += 1
        self._pending.append(update)
        self.notify()
        return update

    def notify(self) -> None:
        """Wake every waiter (long polls, webhook worker, wait_for_reply)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float) -> bool:
        """Wait until something changes or timeout passes; tell whether it changed."""
        event = self._changed
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            # that races with the event being set, leaving a worker that never stops.
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Release every long poll so a shutdown never waits for a poll timeout."""
        self._closed = True
        self.notify()

    @property
    def closed(self) -> bool:
        """Whether the simulator is shutting down."""
        return self._closed

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed, oldest first."""
        return list(self._pending)

    def confirm(self, offset: int) -> None:
        """Apply getUpdates' offset: positive drops ids below it, negative keeps the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._next_id = max(self._next_id, offset)  # ids below a confirmed offset are never issued
        elif offset < 0:
            self._pending = self._pending[offset:]

    def drop_all(self) -> None:
        """Forget every pending update (drop_pending_updates)."""
        self._pending.clear()

    def remove(self, update_id: int) -> None:
        """Drop one update once a webhook accepted it."""
        self._pending = [u for u in self._pending if u["update_id"] != update_id]

    def set_allowed(self, allowed: Iterable[str] | None) -> None:
        """Remember allowed_updates as Telegram does: an empty list means every type."""
        if allowed is None:
            return
        if not isinstance(allowed, list | tuple | set | frozenset):
            raise bad_request("can't parse allowed_updates: a JSON array of strings is expected")
        self._allowed = frozenset(allowed) or None

    def _take(self, limit: int) -> list[dict[str, Any]]:
        if self._allowed is not None:
            self._pending = [u for u in self._pending if update_type(u) in self._allowed]
        return self._pending[:limit]

    async def get_updates(
        self, offset: int, limit: int, timeout: float, allowed: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Answer getUpdates: confirm by offset, then return pending updates or long-poll for them."""
        if not 1 <= limit <= MAX_LIMIT:
            limit = MAX_LIMIT if limit > MAX_LIMIT else 1
        self.set_allowed(allowed)
        self.confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self.notify()  # an older long poll still waiting is terminated below
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            if generation != self._poll_generation:
                raise conflict(
                    "terminated by other getUpdates request; make sure that only one bot instance is running"
                )
            found = self._take(limit)
            remaining = deadline - loop.time()
            if found or remaining <= 0 or self._closed:
                return found
            await self.wait_changed(remaining)
