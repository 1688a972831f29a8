"""Bookkeeping of a log file that cannot be written: report once, count drops, report recovery.

A failing log file must neither raise into the service nor flood stderr: the first failure of
an outage is reported with its reason, lines are counted as they are dropped, retries happen
at most once a second by the injected clock, lines arriving meanwhile are held for the next
retry, and the recovery is reported once with the count. Each outage is reported anew.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

RETRY_INTERVAL_S = 1.0
HELD_BYTES = 4 * 1024 * 1024  # lines kept for the next retry while waiting for it; beyond this they are dropped

Reporter = Callable[[str], None]


def stderr_report(message: str) -> None:
    """Print a problem of the log file to stderr, the one place left when the file fails."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Outage:
    """Track whether the file is failing, since when to retry, and how many lines were lost."""

    def __init__(self, where: str, report: Reporter | None) -> None:
        """Name the file in every message; report to ``report`` or, by default, stderr."""
        self._where = where
        self._report_fn: Reporter = report or stderr_report
        self.reason: str | None = None
        self.dropped = 0
        self._next_retry = 0.0
        self._held: list[bytes] = []
        self._held_bytes = 0

    def waiting(self, now: float) -> bool:
        """Tell whether the file is failing and it is too soon to try it again."""
        return self.reason is not None and now < self._next_retry

    def drop(self, data: bytes) -> None:
        """Count the lines of a batch that will not reach the file."""
        self.dropped += data.count(b"\n")

    def hold(self, data: bytes) -> None:
        """Keep a batch that came while waiting to retry, for the next attempt (dropped past HELD_BYTES)."""
        if self._held_bytes + len(data) > HELD_BYTES:
            self.drop(data)
            return
        self._held.append(data)
        self._held_bytes += len(data)

    def take_held(self, data: bytes) -> bytes:
        """The held batches, oldest first, then ``data``: what the next attempt writes."""
        if not self._held:
            return data
        self._held.append(data)
        joined = b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        return joined

    # The three methods below return the message to report (or None) instead of reporting it,
    # so that the caller reports after releasing its lock: a reporter may well log.

    def refuse(self, data: bytes, reason: str) -> str | None:
        """Drop a batch for a lasting ``reason`` (say, the output is closed); a message the first time."""
        self.drop(data)
        if self.reason is not None:
            return None
        self.reason = reason
        return f"log file {self._where}: {reason}; dropping log lines"

    def fail(self, exc: BaseException, data: bytes, now: float) -> str | None:
        """Drop the batch that failed; a message with the reason for the first failure of an outage."""
        self.drop(data)
        self._next_retry = now + RETRY_INTERVAL_S
        if self.reason is not None:
            return None
        self.reason = f"{type(exc).__name__}: {exc}"
        return (
            f"log file {self._where}: cannot write ({self.reason}); dropping log lines, "
            f"retrying at most once every {RETRY_INTERVAL_S:g} s"
        )

    def succeeded(self) -> str | None:
        """After a successful write, a message ending an outage, with the lines it cost."""
        if self.reason is None:
            return None
        message = (
            f"log file {self._where}: writing again after '{self.reason}'; "
            f"{self.dropped} log lines were dropped meanwhile"
        )
        self.reason, self.dropped = None, 0
        return message

    def report(self, message: str) -> None:
        """Hand a message to the reporter; a broken reporter must not break logging."""
        with contextlib.suppress(Exception):
            self._report_fn(message)
