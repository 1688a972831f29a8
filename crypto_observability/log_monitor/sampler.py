"""System metric sampling that is container-aware: cgroup v2 files win over psutil's host-wide view."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import psutil


class Sampler(Protocol):
    """Return the current value of a metric (None when it cannot be known yet)."""

    def sample(self, metric: str, path: str, now: float, state: dict[str, Any]) -> float | None: ...


class SystemSampler:
    """psutil plus /sys/fs/cgroup (memory.max, memory.current, cpu.max, cpu.stat) when present."""

    def __init__(self, cgroup_root: str | Path = "/sys/fs/cgroup") -> None:
        self.cgroup = Path(cgroup_root)

    def _read(self, name: str) -> str | None:
        try:
            return (self.cgroup / name).read_text().strip()
        except OSError:
            return None

    def memory_percent(self) -> float:
        """Container memory use against its limit, else host memory use."""
        limit, current = self._read("memory.max"), self._read("memory.current")
        if limit and current and limit != "max":
            return 100.0 * int(current) / int(limit)
        return float(psutil.virtual_memory().percent)

    def _cpu_limit(self) -> float | None:
        raw = self._read("cpu.max")
        if not raw or raw.startswith("max"):
            return None
        quota, period = raw.split()[:2]
        return int(quota) / int(period)

    def _rate(self, key: str, total: float, now: float, state: dict[str, Any]) -> float | None:
        prev = state.get("prev", {}).get(key)
        state.setdefault("prev", {})[key] = [now, total]
        if not prev or now <= prev[0]:
            return None
        return max(0.0, (total - float(prev[1])) / (now - float(prev[0])))

    def sample(self, metric: str, path: str, now: float, state: dict[str, Any]) -> float | None:
        if metric == "memory_percent":
            return self.memory_percent()
        if metric == "disk_percent":
            return float(psutil.disk_usage(path).percent)
        if metric == "cpu_percent":
            stat, cpus = self._read("cpu.stat"), self._cpu_limit()
            if stat and cpus:
                usage = next(int(line.split()[1]) for line in stat.splitlines() if line.startswith("usage_usec"))
                rate = self._rate("cpu", usage / 1e6, now, state)
                return None if rate is None else 100.0 * rate / cpus
            return float(psutil.cpu_percent(interval=None))
        if metric == "disk_io_bytes_per_s":
            io = psutil.disk_io_counters()
            return None if io is None else self._rate("disk", float(io.read_bytes + io.write_bytes), now, state)
        if metric == "net_bytes_per_s":
            net = psutil.net_io_counters()
            return self._rate("net", float(net.bytes_sent + net.bytes_recv), now, state)
        raise ValueError(f"unknown metric {metric!r}")


class FixedSampler:
    """A sampler that replays given values per metric; a public test helper."""

    def __init__(self, values: dict[str, list[float]]) -> None:
        self.values = {k: list(v) for k, v in values.items()}

    def sample(self, metric: str, path: str, now: float, state: dict[str, Any]) -> float | None:
        seq = self.values.get(metric) or [None]  # type: ignore[list-item]
        return seq.pop(0) if len(seq) > 1 else seq[0]
