"""Faults injected per exchange at run time: what they are, how they are validated, when they apply.

Kinds (aliases in brackets) and their params, with defaults:
  latency       [slow]          ms=500              answer late
  rate_limit    [429]           retry_after=1       HTTP 429 with Retry-After and the venue's error body
  ip_ban        [418]           retry_after=120     HTTP 418 (Binance's ban; others send it raw too)
  server_error  [5xx, 500, 503] status=503          HTTP 5xx with an HTML gateway page
  timeout       [hang]          seconds=30          hold the request open (until the server stops)
  html          [html_200]      -                   a 200 HTML page instead of JSON
  stale         [old]           age_s=300           data and timestamps as of age_s seconds ago
  crossed       [crossed_book]  ticks=3             best bid above best ask by `ticks` ticks
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .instruments import VENUES

ALL = "*"

# kind -> {param: (default, minimum, maximum)}
KINDS: dict[str, dict[str, tuple[float, float, float]]] = {
    "latency": {"ms": (500, 0, 600_000)},
    "rate_limit": {"retry_after": (1, 0, 86_400)},
    "ip_ban": {"retry_after": (120, 0, 86_400)},
    "server_error": {"status": (503, 500, 599)},
    "timeout": {"seconds": (30, 0, 3_600)},
    "html": {},
    "stale": {"age_s": (300, 1, 30 * 86_400)},
    "crossed": {"ticks": (3, 1, 10_000)},
}

ALIASES: dict[str, str] = {
    "slow": "latency",
    "429": "rate_limit",
    "418": "ip_ban",
    "5xx": "server_error",
    "500": "server_error",
    "502": "server_error",
    "503": "server_error",
    "hang": "timeout",
    "html_200": "html",
    "old": "stale",
    "crossed_book": "crossed",
}

_FIELDS = {"exchange", "kind", "params", "duration_s", "probability", "path"}


class FaultError(ValueError):
    """A fault request that names an unknown exchange, kind or param, or a value out of range."""


@dataclass
class Fault:
    """One active fault: which exchange, what kind, its params, and when and how often it applies."""

    id: int
    exchange: str
    kind: str
    params: dict[str, float]
    probability: float = 1.0
    expires_at: float | None = None
    path: str | None = None
    hits: int = field(default=0)

    def to_dict(self) -> dict[str, Any]:
        """Describe the fault for GET /_admin/state."""
        return {
            "id": self.id,
            "exchange": self.exchange,
            "kind": self.kind,
            "params": self.params,
            "probability": self.probability,
            "expires_at": self.expires_at,
            "path": self.path,
            "hits": self.hits,
        }


def canonical_kind(kind: object) -> str:
    """Return the canonical kind for a kind or alias, or raise naming the allowed ones."""
    name = str(kind).strip().lower()
    name = ALIASES.get(name, name)
    if name not in KINDS:
        raise FaultError(
            f"unknown fault kind {kind!r}; allowed: {', '.join(KINDS)} (aliases: {', '.join(ALIASES)})"
        )
    return name


def _number(label: str, value: object, low: float, high: float) -> float:
    """Check that value is a number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{label} must be a number, got {value!r}")
    if not low <= value <= high:
        raise FaultError(f"{label}={value!r} is out of range; allowed {low:g}..{high:g}")
    return float(value)


def validate_params(kind: str, params: Mapping[str, object]) -> dict[str, float]:
    """Fill defaults and check every param of a kind, naming the allowed ones on error."""
    spec = KINDS[kind]
    unknown = set(params) - set(spec)
    if unknown:
        allowed = ", ".join(spec) or "none"
        raise FaultError(f"unknown param(s) {sorted(unknown)} for fault {kind!r}; allowed: {allowed}")
    result = {}
    for name, (default, low, high) in spec.items():
        result[name] = _number(f"{kind}.{name}", params.get(name, default), low, high)
    return result


def parse_fault(payload: Mapping[str, Any], fault_id: int, now: float) -> Fault:
    """Build a Fault from the admin endpoint's JSON body (or the Python API's keywords)."""
    unknown = set(payload) - _FIELDS
    if unknown:
        raise FaultError(f"unknown field(s) {sorted(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    exchange = str(payload.get("exchange", ""))
    if exchange not in (*VENUES, ALL):
        raise FaultError(f"unknown exchange {exchange!r}; allowed: {', '.join(VENUES)} or {ALL!r} for all")
    kind = canonical_kind(payload.get("kind", ""))
    raw_params = payload.get("params") or {}
    if not isinstance(raw_params, Mapping):
        raise FaultError(f"params must be an object, got {raw_params!r}")
    params = validate_params(kind, raw_params)
    probability = _number("probability", payload.get("probability", 1.0), 0.0, 1.0)
    duration = payload.get("duration_s")
    expires_at = None if duration is None else now + _number("duration_s", duration, 0.0, 30 * 86_400)
    path = payload.get("path")
    if path is not None and not isinstance(path, str):
        raise FaultError(f"path must be a string (a substring of the request path), got {path!r}")
    return Fault(fault_id, exchange, kind, params, probability, expires_at, path)


class FaultBook:
    """The faults in force, with a seeded dice for `probability` and the injected clock for expiry."""

    def __init__(self, clock: Callable[[], float], seed: int = 7) -> None:
        self._clock = clock
        self._dice = random.Random(seed)
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, payload: Mapping[str, Any]) -> Fault:
        """Validate and install a fault; several faults may be in force at once."""
        fault = parse_fault(payload, self._next_id, self._clock())
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def clear(self, exchange: str | None = None) -> int:
        """Remove all faults, or those of one exchange; return how many were removed."""
        before = len(self._faults)
        self._faults = [f for f in self._faults if exchange is not None and f.exchange != exchange]
        return before - len(self._faults)

    def current(self) -> list[Fault]:
        """Return the faults not yet expired, dropping expired ones."""
        now = self._clock()
        self._faults = [f for f in self._faults if f.expires_at is None or f.expires_at > now]
        return list(self._faults)

    def firing(self, exchange: str, path: str) -> dict[str, Fault]:
        """Return, by kind, the faults that fire for this request (after the probability roll)."""
        fired: dict[str, Fault] = {}
        for fault in self.current():
            if fault.exchange not in (exchange, ALL) or (fault.path and fault.path not in path):
                continue
            if fault.probability < 1.0 and self._dice.random() >= fault.probability:
                continue
            fault.hits += 1
            fired.setdefault(fault.kind, fault)
        return fired
