"""Faults a test arms on purpose: the next K Bot API calls answer 429 or 5xx instead of working."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ApiError, server_error, too_many_requests


@dataclass
class _Fault:
    error: ApiError
    remaining: int
    methods: frozenset[str] | None  # lower-case method names, None = every method


class FaultPlan:
    """Armed faults, consumed in the order they were armed, one call at a time."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []

    def inject_429(self, retry_after: int = 1, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count calls (of methods, or any) answer 429 with parameters.retry_after."""
        if not isinstance(retry_after, int) or retry_after < 1:
            raise ValueError(f"retry_after must be a positive int of seconds, got {retry_after!r}")
        self._arm(too_many_requests(retry_after), count, methods)

    def inject_5xx(self, status: int = 502, count: int = 1, methods: Iterable[str] | None = None) -> None:
        """Make the next count calls (of methods, or any) answer a server error with that status."""
        self._arm(server_error(status), count, methods)

    def _arm(self, error: ApiError, count: int, methods: Iterable[str] | None) -> None:
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive int, got {count!r}")
        if isinstance(methods, str):
            methods = [methods]
        names = None if methods is None else frozenset(m.lower() for m in methods)
        self._faults.append(_Fault(error, count, names))

    def take(self, method: str) -> ApiError | None:
        """Consume and return the fault that applies to this call, if any."""
        name = method.lower()
        for fault in self._faults:
            if fault.methods is None or name in fault.methods:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.error
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    @property
    def armed(self) -> int:
        """How many faulty answers are still to come."""
        return sum(f.remaining for f in self._faults)
