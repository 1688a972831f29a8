"""The --since/--until/--service/--level filters, parsed once and turned into one SQL predicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crypto_observability.log_analyzer.dialect import DUCKDB, Dialect, string_list
from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.schema import LEVELS
from crypto_observability.shared.durations import GRAMMAR, DurationTooLong, parse_duration


def parse_time(value: str, now: datetime, option: str = "--since") -> datetime:
    """Parse a duration before ``now`` (``30m``, ``1h30m``, ``7d``: shared.durations) or an ISO 8601 time."""
    try:
        return now - timedelta(seconds=parse_duration(value))
    except DurationTooLong as exc:
        raise OptionError(f"{option} {exc}") from None
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise OptionError(f"{option} {value!r}: use a duration ({GRAMMAR}) "
                          "or an ISO time like 2025-01-15T10:30:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_levels(values: Sequence[str]) -> tuple[str, ...]:
    """Parse levels, each exact (``ERROR``) or at-least (``WARNING+``), into the set of levels kept."""
    kept: list[str] = []
    for value in values:
        name = value.strip().upper()
        at_least = name.endswith("+")
        name = name.rstrip("+")
        if name not in LEVELS:
            raise OptionError(f"--level {value!r}: allowed {', '.join(LEVELS)}, each optionally with '+' "
                              "for that level and above")
        chosen = LEVELS[LEVELS.index(name):] if at_least else (name,)
        kept += [lvl for lvl in chosen if lvl not in kept]
    return tuple(lvl for lvl in LEVELS if lvl in kept)


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


@dataclass(frozen=True)
class Filters:
    """Which records an analysis sees; empty fields mean no restriction."""

    since: datetime | None = None
    until: datetime | None = None
    services: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    @classmethod
    def parse(cls, since: str | None = None, until: str | None = None, services: Sequence[str] = (),
              levels: Sequence[str] = (), now: datetime | None = None) -> Filters:
        """Build filters from CLI strings, times relative to ``now`` (default: the current time)."""
        now = now or datetime.now(UTC)
        start = parse_time(since, now, "--since") if since else None
        end = parse_time(until, now, "--until") if until else None
        if start and end and start >= end:
            raise OptionError(f"--since {since!r} is not before --until {until!r}")
        return cls(start, end, tuple(services), parse_levels(levels))

    def where(self, dialect: Dialect = DUCKDB) -> str:
        """Return the SQL predicate over the flat columns (``TRUE`` when nothing is filtered), in ``dialect``."""
        terms = []
        if self.since:
            terms.append(f"ts >= {dialect['timestamp'].format(_naive(self.since))}")
        if self.until:
            terms.append(f"ts < {dialect['timestamp'].format(_naive(self.until))}")
        if self.services:
            terms.append(f"service IN ({string_list(self.services)})")
        if self.levels:
            terms.append(f"level IN ({string_list(self.levels)})")
        return " AND ".join(terms) or "TRUE"

    def describe(self) -> dict[str, object]:
        """Return the filters as plain data for the report's header."""
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "services": list(self.services), "levels": list(self.levels)}
