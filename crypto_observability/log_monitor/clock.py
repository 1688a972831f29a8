"""Injectable clocks: the real one for production, a fake one so tests never sleep."""

from __future__ import annotations

import time
from typing import Protocol

from crypto_observability.shared.testing import FakeClock

__all__ = ["Clock", "FakeClock", "system_clock"]


class Clock(Protocol):
    """Anything that tells the time in epoch seconds."""

    def __call__(self) -> float: ...


def system_clock() -> float:
    """Return the wall-clock time in epoch seconds."""
    return time.time()
