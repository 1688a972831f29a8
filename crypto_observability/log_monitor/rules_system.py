"""Rules that look outside the logs: HTTP health checks, system metrics, and linear "full within N hours"."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.rules_logs import Record, Signal
from crypto_observability.log_monitor.sampler import Sampler, SystemSampler

HttpGet = Callable[[str, float], int]


def http_status(url: str, timeout: float) -> int:
    """GET `url` and return its status code (raises on network errors)."""
    return httpx.get(url, timeout=timeout, follow_redirects=False).status_code


class _Prober:
    """Runs probes in background threads so a slow endpoint never stalls the follower."""

    _pool: ThreadPoolExecutor | None = None
    _lock = threading.Lock()

    @classmethod
    def submit(cls, fn: Callable[[], int]) -> Future[int]:
        with cls._lock:
            if cls._pool is None:
                cls._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="log-monitor-probe")
        return cls._pool.submit(fn)


class HttpCheckRule:
    """Probe a URL every `interval`; fire after `failures` consecutive bad answers."""

    def __init__(self, cfg: c.HttpCheckRule, http_get: HttpGet = http_status) -> None:
        self.cfg, self.http_get = cfg, http_get
        self._future: Future[int] | None = None

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg = self.cfg
        fut = self._future
        if fut is not None and fut.done():
            self._future = None
            # any probe failure is a failed check, reported by name; read, not re-raised: a raise here would
            # tie this frame (and the batch it holds) to the future's exception until the cyclic GC ran
            exc = fut.exception()
            status, error = (fut.result(), "") if exc is None else (0, f"{type(exc).__name__}: {exc}")
            ok = status == cfg.expected_status
            state["failures"] = 0 if ok else state.get("failures", 0) + 1
            state["last"] = {"at": now, "status": status, "error": error}
        if self._future is None and now >= state.get("next_at", 0.0):
            state["next_at"] = now + cfg.interval
            self._future = _Prober.submit(lambda: self.http_get(cfg.url, cfg.timeout))
        last = state.get("last", {})
        if state.get("failures", 0) >= cfg.failures:
            got = last.get("error") or f"status {last.get('status')}"
            return [
                Signal(
                    {"service": cfg.service, "url": cfg.url},
                    float(last.get("status", 0)),
                    f"{cfg.service} health check {cfg.url} failed: {got} (expected {cfg.expected_status})",
                )
            ]
        return []

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the in-flight probe (if any) finishes; for tests and --once."""
        if self._future is not None:
            self._future.exception(timeout=timeout)


class SystemRule:
    """A sampled host/container metric above a threshold."""

    def __init__(self, cfg: c.SystemRule, sampler: Sampler | None = None) -> None:
        self.cfg, self.sampler = cfg, sampler or SystemSampler()

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg = self.cfg
        if now >= state.get("next_at", 0.0):
            state["next_at"] = now + cfg.interval
            value = self.sampler.sample(cfg.metric, cfg.path, now, state)
            if value is not None:
                state["value"] = value
        value = state.get("value")
        if value is not None and value > cfg.threshold:
            return [
                Signal(
                    {"metric": cfg.metric, "host": os.uname().nodename},
                    value,
                    f"{cfg.metric} {value:.1f} is above {cfg.threshold:g}",
                )
            ]
        return []


def linear_fit(points: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Least-squares slope and intercept of (t, y) points."""
    n = len(points)
    mt = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    var = sum((p[0] - mt) ** 2 for p in points)
    slope = sum((p[0] - mt) * (p[1] - my) for p in points) / var if var else 0.0
    return slope, my - slope * mt


class PredictRule:
    """Disk or memory use trending to 100% within `horizon` (least squares over `lookback`)."""

    def __init__(self, cfg: c.PredictRule, sampler: Sampler | None = None) -> None:
        self.cfg, self.sampler = cfg, sampler or SystemSampler()

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg = self.cfg
        points: list[list[float]] = state.setdefault("points", [])
        if now >= state.get("next_at", 0.0):
            state["next_at"] = now + cfg.interval
            value = self.sampler.sample(cfg.metric, cfg.path, now, state)
            if value is not None:
                points.append([now, value])
        points[:] = [p for p in points if p[0] >= now - cfg.lookback]
        if len(points) < cfg.min_samples:
            state["status"] = f"insufficient history ({len(points)} of {cfg.min_samples} samples)"
            return []
        slope, intercept = linear_fit(points)
        current = slope * now + intercept
        if slope <= 0:
            state["status"] = f"{cfg.metric} {current:.1f}% and not rising"
            return []
        eta = (100.0 - current) / slope
        state["status"] = f"{cfg.metric} {current:.1f}%, full in {eta / 3600:.1f}h at the current trend"
        if eta <= cfg.horizon:
            return [
                Signal(
                    {"metric": cfg.metric},
                    eta,
                    f"{cfg.metric} will reach 100% in about "
                    f"{eta / 3600:.1f}h (now {current:.1f}%, +{slope * 3600:.2f} points/h)",
                )
            ]
        return []
