"""The dashboard document: every analysis in one JSON-ready dict (the shape docs/log_analyzer.md describes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crypto_observability.log_analyzer._util import iso, record_count, time_range
from crypto_observability.log_analyzer.changes import find_changes
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.error_patterns import analyze_errors
from crypto_observability.log_analyzer.exchanges import analyze_exchanges
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.health import analyze_health
from crypto_observability.log_analyzer.journeys import analyze_journeys
from crypto_observability.log_analyzer.performance import analyze_performance
from crypto_observability.log_analyzer.timeseries import analyze_timeseries

SCHEMA_VERSION = 1


def describe_input(ds: Dataset) -> dict[str, Any]:
    """Return what was read: files (or the store), records, time range, filters and the malformed-line accounting."""
    start, end = time_range(ds)
    records = record_count(ds)
    return {
        "files": [str(f.path) for f in ds.files], "cached_files": ds.cached_files, "source": ds.source,
        "records": records,
        "records_before_filters": records if ds.filters == Filters() else ds.count_before_filters(),
        "start": iso(start), "end": iso(end), "filters": ds.filters.describe(),
        "malformed": {"count": ds.malformed_count, "by_file": ds.malformed_by_file,
                      "lines": [m.to_dict() for m in ds.malformed]},
        "notes": ds.notes + odd_timestamps(ds),
    }


FAR_YEARS = 10  # a record this far from the input's median time is almost surely a wrong clock or a unit mix-up


def odd_timestamps(ds: Dataset) -> list[str]:
    """Say how many records lie decades away from the rest (epoch-number timestamps are already malformed lines)."""
    if not ds.summarised:
        return []
    minutes = ds.rows("SELECT minute, sum(n) FROM counts GROUP BY 1 ORDER BY 1")
    half, running, middle = sum(n for _, n in minutes) / 2, 0, None
    for minute, n in minutes:
        running += n
        if running >= half:
            middle = minute
            break
    if middle is None:
        return []
    limit = FAR_YEARS * 365.25 * 86400
    far = sum(n for minute, n in minutes if abs((minute - middle).total_seconds()) > limit)
    return [f"{far} record(s) carry a timestamp more than {FAR_YEARS} years from the rest of the input "
            "(a wrong clock?); they are counted where their time puts them"] if far else []


def build_dashboard(ds: Dataset, now: datetime | None = None, top: int = 10) -> dict[str, Any]:
    """Run every analysis over the dataset and return the dashboard document."""
    now = now or datetime.now(UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "input": describe_input(ds),
        "health": analyze_health(ds, now),
        "errors": analyze_errors(ds, top=max(top, 25)),
        "performance": analyze_performance(ds),
        "journeys": analyze_journeys(ds, top=top),
        "exchanges": analyze_exchanges(ds),
        "timeseries": analyze_timeseries(ds),
        "changes": find_changes(ds),
    }
