"""Injectable clocks: the real one for production, a fake one so tests never sleep."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time in epoch seconds."""

    def __call__(self) -> float: ...


def system_clock() -> float:
    """Return the wall-clock time in epoch seconds."""
    return time.time()


class FakeClock:
    """A clock that only moves when told to; shipped as a public test helper."""

    def __init__(self, start: float = 1_736_937_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward and return the new time."""
        self.now += seconds
        return self.now
