"""Process memory and CPU, sampled in the background at most once a second.

psutil costs about 100 µs a call here, so records read the last sample instead of asking.
CPU is a percentage of the CPUs this process may use: the cgroup quota inside a container,
the host's CPU count outside.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
_CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def available_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> float:
    """CPUs this process may use: the cgroup quota when one is set, else the affinity mask."""
    try:
        host = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        host = float(os.cpu_count() or 1)
    quota = _cgroup_quota(cpu_max)
    return min(host, quota) if quota else host


def _cgroup_quota(cpu_max: Path) -> float | None:
    try:
        quota, _, period = cpu_max.read_text().strip().partition(" ")
        if quota != "max":
            return max(float(quota) / float(period), 0.01)
    except (OSError, ValueError):
        pass
    try:
        q, p = int(_CGROUP_V1_QUOTA.read_text()), int(_CGROUP_V1_PERIOD.read_text())
        return q / p if q > 0 and p > 0 else None
    except (OSError, ValueError):
        return None


class PerformanceSampler:
    """Keeps a fresh {"memory_usage_mb", "cpu_percent"} snapshot for records to share."""

    def __init__(self, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = max(interval_s, 0.05)
        self._clock = clock
        self._process = psutil.Process()
        self._cpus = available_cpus()
        self._last_cpu = self._cpu_seconds()
        self._last_time = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot: dict[str, float] = {"memory_usage_mb": self._memory_mb(), "cpu_percent": 0.0}

    def sample(self) -> dict[str, float]:
        """Measure now and publish a new snapshot (a new dict, so readers never see it half-made)."""
        now, cpu = self._clock(), self._cpu_seconds()
        elapsed = now - self._last_time
        percent = 100.0 * (cpu - self._last_cpu) / elapsed / self._cpus if elapsed > 0 else 0.0
        self._last_time, self._last_cpu = now, cpu
        self.snapshot = {"memory_usage_mb": self._memory_mb(), "cpu_percent": round(max(percent, 0.0), 1)}
        return self.snapshot

    def start(self) -> None:
        """Start the daemon thread that refreshes the snapshot every interval."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="log-perf-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop refreshing; the last snapshot stays readable."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sample()
            except Exception:  # a vanished /proc entry must never kill the sampler
                continue

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def _memory_mb(self) -> float:
        return round(self._process.memory_info().rss / 1048576, 1)
