"""Small helpers the analyses share: time formatting, bucketing, safe ratios."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.summary import EXACT_LIMIT, grouped_quantiles, summary_select


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


def record_count(ds: Dataset) -> int:
    """Return how many records passed the filters."""
    return int(ds.scalar("SELECT sum(n) FROM counts" if ds.summarised else "SELECT count(*) FROM records") or 0)


def time_range(ds: Dataset) -> tuple[datetime | None, datetime | None]:
    """Return the first and last timestamp among the filtered records (asked once per dataset)."""
    if ds.time_range is None:
        source = "min(first_ts), max(last_ts) FROM counts" if ds.summarised else "min(ts), max(ts) FROM records"
        row = ds.rows(f"SELECT {source}")[0]
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


# window widths (seconds) the charts choose from: round numbers, so windows start at whole minutes, hours, days
NICE_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
               604800)


@dataclass(frozen=True)
class Windows:
    """Fixed windows of ``width`` seconds aligned on the epoch (so they do not move as records arrive)."""

    width: int
    first: int  # index (epoch seconds // width) of the window holding the first record
    count: int

    def origin(self) -> datetime:
        """Return the start of window 0."""
        return datetime(1970, 1, 1) + timedelta(seconds=self.first * self.width)

    def start(self, index: int) -> datetime:
        """Return the start of window ``index``."""
        return self.origin() + timedelta(seconds=index * self.width)

    def index_sql(self, column: str) -> str:
        """Return SQL numbering the window (0..count-1) of the timestamp ``column``."""
        return f"(CAST(epoch_ms({column}) // {self.width * 1000} AS INTEGER) - {self.first})"

    def source(self, ds: Dataset, table: str = "counts") -> str:
        """Return summary ``table`` (``counts`` or ``latency_by_minute``) at a grain these windows can group."""
        return ds.summary_at(table, self.width)


def windows(ds: Dataset, most: int = 48) -> Windows | None:
    """Return the narrowest round windows splitting the records' time range into at most ``most``."""
    start, end = time_range(ds)
    if start is None or end is None:
        return None
    first, last = (moment.replace(tzinfo=None) - datetime(1970, 1, 1) for moment in (start, end))
    width = next((w for w in NICE_WIDTHS if int(last.total_seconds()) // w - int(first.total_seconds()) // w < most),
                 None)
    if width is None:
        width = 604800 * (int((last - first).total_seconds()) // (604800 * (most - 1)) + 1)
    index = int(first.total_seconds()) // width
    return Windows(width, index, int(last.total_seconds()) // width - index + 1)


def summary(ds: Dataset, table: str) -> str:
    """Return the relation holding summary ``table`` of the filtered records (built from the rows if need be)."""
    return table if ds.summarised else f"({summary_select(table, 'records')})"


def exact_percentiles(ds: Dataset) -> bool:
    """Say whether percentiles come from the rows (few timed records) rather than the histograms."""
    if ds.exact is None:
        ds.exact = int(ds.scalar("SELECT coalesce(sum(n), 0) FROM latency") or 0) <= EXACT_LIMIT
    return ds.exact


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else value) for value in key)


def percentiles(ds: Dataset, keys: Sequence[str], where: str, qs: Sequence[float]
                ) -> list[tuple[tuple[Any, ...], int, list[float | None], float]]:
    """Return (key, count, quantiles, max) of response_time_ms per ``keys``, ordered by key.

    ``keys`` and ``where`` may name the latency dimensions only (summary.LATENCY_KEYS).
    """
    names = ", ".join(f'"{k}"' for k in keys)
    if exact_percentiles(ds):
        rows = ds.rows(f"SELECT {names}, count(rt), quantile_cont(rt, {list(qs)}), max(rt) FROM records "
                       f"WHERE rt IS NOT NULL AND {where} GROUP BY ALL")
        found = {tuple(r[:len(keys)]): (r[-3], r[-2], r[-1]) for r in rows}
    else:
        found = grouped_quantiles(ds.rows(f"SELECT {names}, bin, sum(n), min(lo), max(hi) FROM latency "
                                          f"WHERE {where} GROUP BY ALL ORDER BY ALL"), len(keys), qs)
    return [(key, *found[key]) for key in sorted(found, key=_order)]
