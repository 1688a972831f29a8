"""The demo's minute: user traffic from the Telegram simulator, and an incident on the exchanges.

A 429 storm on one exchange, then latency on another, then recovery; each step is an admin
call to the exchange simulator at a fixed share of the run, shown on a progress bar.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Step:
    """At `at` (a share of the run), do `action` and say `label`."""

    at: float
    label: str
    action: Callable[[httpx.Client], Any]


def incident(exchange_url: str) -> list[Step]:
    """The timeline: storm, latency, recovery."""
    faults = f"{exchange_url}/_admin/faults"
    return [
        Step(0.0, "normal traffic", lambda http: None),
        Step(0.25, "429 storm on bybit", lambda http: http.post(faults, json={
            "exchange": "bybit", "kind": "rate_limit", "params": {"retry_after": 2}}).raise_for_status()),
        Step(0.5, "bybit recovers, okx answers in 1.5 s", lambda http: (
            http.delete(faults, params={"exchange": "bybit"}).raise_for_status(),
            http.post(faults, json={"exchange": "okx", "kind": "latency", "params": {"ms": 1500}}).raise_for_status())),
        Step(0.75, "recovery: all exchanges healthy", lambda http: http.delete(faults).raise_for_status()),
    ]


def run(duration_s: float, telegram_url: str, exchange_url: str, progress: Any, alive: Callable[[], str | None],
        rate: float = 2.0, users: int = 12, seed: int = 1) -> dict[str, Any]:
    """Start the traffic, play the incident while it runs, return the traffic report."""
    steps = incident(exchange_url)
    with httpx.Client(timeout=10.0) as http:
        http.post(f"{telegram_url}/_admin/traffic", json={
            "duration_s": duration_s, "rate_per_s": rate, "users": users, "seed": seed}).raise_for_status()
        task = progress.add_task(steps[0].label, total=duration_s)
        start = time.monotonic()
        pending = list(steps)
        while (elapsed := time.monotonic() - start) < duration_s:
            while pending and elapsed >= pending[0].at * duration_s:
                step = pending.pop(0)
                step.action(http)
                progress.update(task, description=step.label)
            dead = alive()
            if dead:
                raise RuntimeError(f"{dead} stopped during the demo")
            progress.update(task, completed=elapsed)
            time.sleep(0.25)
        progress.update(task, completed=duration_s, description="traffic finished")
        for _ in range(40):  # the last commands are still being answered
            state = http.get(f"{telegram_url}/_admin/traffic").json()["result"]
            if state.get("state") != "running":
                return dict(state.get("report") or state)
            time.sleep(0.25)
        return {"state": "still running"}
