"""The one duration grammar of the project: LOG_MAX_AGE, log-analyzer --since/--until, log-monitor --for and its
config, the Telegram simulator's --traffic and --traffic-delay.

A duration is a number of seconds (``90``, ``1.5``) or one or more ``<number><unit>`` parts with units in
decreasing order, each at most once: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``7d``, ``1w``, ``2d12h``
(units ``w d h m s ms``, case-insensitive; the forms amtool and Prometheus accept, plus fractions: ``1.5h``).

A duration is at most 100 years (``MAX_SECONDS``, 36525 days): a longer one (``9999999w``, a 400-digit number)
is refused here, with :class:`DurationTooLong`, so no reader meets a date past year 9999 or a float overflow.
"""

from __future__ import annotations

import re

UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
GRAMMAR = "a number of seconds or e.g. 500ms, 30s, 5m, 1h30m, 24h, 7d, 1w (units w d h m s ms, largest first)"
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*(ms|[wdhms])", re.IGNORECASE)
_WHOLE = re.compile(rf"\s*(?:{_NUMBER}\s*(?:ms|[wdhms])\s*)+", re.IGNORECASE)
_PLAIN = re.compile(rf"\s*({_NUMBER})\s*")
MAX_SECONDS = 100 * 365.25 * 86400.0
LIMIT = "at most 100 years"


class DurationTooLong(ValueError):
    """A duration in the grammar that is longer than ``MAX_SECONDS``."""


def parse_duration(text: str) -> float:
    """Return the seconds ``text`` stands for; raise ValueError naming the value and the grammar, or
    DurationTooLong (a ValueError) when it is longer than 100 years."""
    plain = _PLAIN.fullmatch(text)
    if plain:
        return _bounded(text, float(plain.group(1)))
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration: expected {GRAMMAR}")
    order = list(UNITS)
    seconds, last = 0.0, -1
    for number, unit in _PART.findall(text):
        rank = order.index(unit.lower())
        if rank <= last:
            raise ValueError(f"{text!r} is not a duration: units must be largest first, each once; expected {GRAMMAR}")
        seconds, last = seconds + float(number) * UNITS[unit.lower()], rank
    return _bounded(text, seconds)


def parse_positive_duration(text: str) -> float:
    """Return the seconds of a duration that must be above 0 (how long to run, how often to act); else ValueError."""
    seconds = parse_duration(text)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a duration above 0: expected {GRAMMAR}")
    return seconds


def _bounded(text: str, seconds: float) -> float:
    if not seconds <= MAX_SECONDS:  # also inf, from a number too long for a float
        raise DurationTooLong(f"{text!r} is too long ({LIMIT})")
    return seconds
