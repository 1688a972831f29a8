"""Small helpers the analyses share: time formatting, bucketing, safe ratios."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tools.log_analyzer.engine import Dataset


def iso(moment: datetime | None) -> str | None:
    """Render a naive-UTC DuckDB timestamp as the record format's ``...Z`` string."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def ratio(part: float | None, whole: float | None, digits: int = 4) -> float | None:
    """Return part/whole rounded, or None when there is nothing to divide by."""
    if not whole or part is None:
        return None
    return round(part / whole, digits)


def rnd(value: Any, digits: int = 2) -> Any:
    """Round floats (and lists of floats) for display; leave anything else alone."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, list):
        return [rnd(v, digits) for v in value]
    return value


def time_range(ds: Dataset) -> tuple[datetime | None, datetime | None]:
    """Return the first and last timestamp among the filtered records (asked once per dataset)."""
    if ds.time_range is None:
        row = ds.rows("SELECT min(ts), max(ts) FROM records")[0]
        ds.time_range = (row[0], row[1])
    return ds.time_range


def bucket_width_seconds(start: datetime | None, end: datetime | None, buckets: int) -> float:
    """Return a bucket width (seconds, at least 1) that splits the range into ``buckets`` windows."""
    if start is None or end is None:
        return 60.0
    return max(1.0, (end - start).total_seconds() / buckets)


def bucket_expr(start: datetime, width: float, buckets: int) -> str:
    """Return SQL numbering each record's window 0..buckets-1 from ``start`` in ``width`` seconds."""
    origin = start.isoformat(sep=" ")
    return (f"least({buckets - 1}, CAST(floor((epoch_ms(ts) - epoch_ms(TIMESTAMP '{origin}')) "
            f"/ {width * 1000.0}) AS INTEGER))")
