"""Deliver outbox rows: per-channel rate limit folding overflow into a digest, retries with backoff.

A retryable failure is retried with capped backoff: `max_attempts` times, then on (every
MAX_BACKOFF) for as long as the notification is still current (an alert in it is still in the
state it announces); only then is the row dead, and `log-monitor retry` requeues dead rows.
A permanent failure (4xx, a mail that cannot be built, a notifier bug) is dead at once.

At-least-once at the network boundary: a row is marked sent only after the channel confirmed it,
so a crash between the receiver's 2xx and our commit re-sends it once after restart. The
receiver can drop that duplicate by the payload's `idempotency_key` (also the webhook's
Idempotency-Key header and the mail's Message-ID).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.clock import system_clock
from crypto_observability.log_monitor.notifiers import DeliveryResult, Notifier
from crypto_observability.log_monitor.store import Store

MAX_BACKOFF = 300.0


class TokenBucket:
    """`count` tokens refilled evenly over `per` seconds."""

    def __init__(self, count: int, per: float, now: float) -> None:
        self.capacity, self.rate = float(count), count / per if per else float("inf")
        self.tokens, self.last = float(count), now

    def available(self, now: float) -> int:
        """Refill and return how many whole tokens are available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return int(self.tokens)

    def take(self, now: float) -> bool:
        """Spend a token if one is available."""
        if self.available(now) < 1:
            return False
        self.tokens -= 1
        return True


def backoff(attempts: int) -> float:
    """Seconds to wait before the next attempt: 1, 2, 4 ... capped at five minutes."""
    return float(min(MAX_BACKOFF, 2 ** max(0, attempts - 1)))


def digest_payload(channel: str, rows: list[dict[str, Any]], now_iso: str | None) -> dict[str, Any]:
    """Fold several notifications into one digest notification."""
    alerts = [a for r in rows for a in r["payload"].get("alerts", [])]
    return {
        "version": "1",
        "channel": channel,
        "notification_reason": "digest",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "groupKey": f"digest of {len(rows)} notifications",
        "commonLabels": {},
        "alerts": alerts,
        "digest_of": [r["idempotency_key"] for r in rows],
        "created_at": now_iso,
    }


class Sender:
    """Drains due outbox rows through the channels' notifiers."""

    def __init__(
        self,
        store: Store,
        notifiers: dict[str, Notifier],
        cfg: c.MonitorConfig,
        clock: Callable[[], float] = system_clock,
    ) -> None:
        self.store, self.notifiers, self.cfg, self.clock = store, notifiers, cfg, clock
        self.buckets: dict[str, TokenBucket] = {}

    def _bucket(self, channel: str, now: float) -> TokenBucket | None:
        ch = self.cfg.channels.get(channel)
        if ch is None or ch.rate_limit is None:
            return None
        if channel not in self.buckets:
            self.buckets[channel] = TokenBucket(ch.rate_limit.count, ch.rate_limit.per, now)
        return self.buckets[channel]

    def deliver_due(self, channel: str | None = None, stop: Callable[[], bool] = lambda: False) -> int:
        """Attempt every due row (of one channel, if given) once; return how many were delivered."""
        now = self.clock()
        delivered = 0
        channels = sorted({r["channel"] for r in self.store.due(now)} if channel is None else {channel})
        for ch in channels:
            rows = [r for r in self.store.due(now) if r["channel"] == ch]
            bucket = self._bucket(ch, now)
            if bucket is not None:
                avail = bucket.available(now)
                if avail < 1:
                    continue
                if len(rows) > avail:
                    from crypto_observability.log_monitor.engine import _iso

                    folded = rows[avail - 1 :]
                    self.store.fold_digest(ch, [r["id"] for r in folded], digest_payload(ch, folded, _iso(now)), now)
                    rows = [r for r in self.store.due(now) if r["channel"] == ch]
            for row in rows:
                if stop() or (bucket is not None and not bucket.take(now)):
                    break
                delivered += self._attempt(row, now)
        return delivered

    def _attempt(self, row: dict[str, Any], now: float) -> int:
        payload = {**row["payload"], "idempotency_key": row["idempotency_key"]}
        notifier = self.notifiers.get(row["channel"])
        if notifier is None:
            result = DeliveryResult(False, False, None, f"channel {row['channel']!r} is not configured")
        else:
            try:
                result = notifier.send(payload)
            except Exception as exc:  # a broken notifier must not stop the others; the same input fails again
                result = DeliveryResult(False, False, None, f"{type(exc).__name__}: {exc}")
        attempts = row["attempts"] + 1
        ch = self.cfg.channels.get(row["channel"])
        max_attempts = ch.max_attempts if ch else 1
        if result.ok:
            status, next_at = "sent", row["next_attempt_at"]
        elif result.retryable and (attempts < max_attempts or self.store.still_current(payload)):
            status, next_at = "pending", now + max(result.retry_after or 0.0, backoff(attempts))
        else:
            status, next_at = "dead", row["next_attempt_at"]
        detail = {
            "outbox_id": row["id"],
            "channel": row["channel"],
            "reason": payload.get("notification_reason"),
            "status": status,
            "attempt": attempts,
            "detail": result.detail,
            "idempotency_key": row["idempotency_key"],
        }
        self.store.mark(
            row["id"],
            status,
            attempts=attempts,
            next_at=next_at,
            error=None if result.ok else result.detail,
            sent_at=now if result.ok else None,
            history=(now, "delivery", detail),
        )
        return int(result.ok)
