"""Shared timing helpers: medians over repeats, CPU of the caller thread and of the whole process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    """Microseconds per operation: on the calling thread, and in CPU over all threads."""

    caller_us: float
    total_cpu_us: float


def measure(run: Callable[[int], None], finish: Callable[[], None], n: int, repeats: int = 5) -> Cost:
    """Median cost per op of run(n) followed by finish() (the flush), over repeats."""
    callers, totals = [], []
    for _ in range(repeats):
        cpu0, thread0 = time.process_time(), time.thread_time()
        run(n)
        thread1 = time.thread_time()
        finish()
        cpu1 = time.process_time()
        callers.append((thread1 - thread0) / n * 1e6)
        totals.append((cpu1 - cpu0) / n * 1e6)
    return Cost(statistics.median(callers), statistics.median(totals))


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])
