"""Incidents: runs of failures of one kind of operation, found at a fixed resolution of ``RESOLUTION_S`` seconds.

Failures and outcomes are those of the vocabulary (``vocabulary.py``), grouped by what failed: the
service, the event and the exchange (so bybit's calls are judged apart from okx's). Windows are
``RESOLUTION_S`` seconds long and aligned on the epoch, whatever range is analysed. A window is
abnormal for a group when the group has at least ``MIN_FAILURES`` failures there and they are at least
``MIN_SHARE`` of its judged outcomes (successes plus failures). Abnormal windows of any group, with up
to ``GAP_WINDOWS`` quiet windows between them, form an incident, which then takes in the adjacent
windows where the same groups still fail. The incident starts at its first failure and ends at its
last (exact, from the records); ``recovery_seconds`` is that span. Nothing depends on the records
outside the incident, so start, end and counts do not move when the analysed range grows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crypto_observability.log_analyzer._util import iso, summary
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.summary import INCIDENT_RESOLUTION_S

RESOLUTION_S = INCIDENT_RESOLUTION_S
MIN_FAILURES = 3
MIN_SHARE = 0.25
GAP_WINDOWS = 1

Group = tuple[str | None, str | None, str | None]  # service, event, exchange


@dataclass
class _Cell:
    """One group's outcomes in one window."""

    judged: int
    failures: int
    first: datetime | None
    last: datetime | None


@dataclass
class _Run:
    """Consecutive windows of one incident and the groups that failed in them."""

    first: int
    last: int
    groups: set[Group] = field(default_factory=set)


def _cells(ds: Dataset) -> dict[int, dict[Group, _Cell]]:
    """Return, per window index (epoch seconds // RESOLUTION_S), each group's judged outcomes and failures."""
    out: dict[int, dict[Group, _Cell]] = defaultdict(dict)
    for window, service, event, exchange, judged, failures, first, last in ds.rows(f"""
            SELECT w, service, event, exchange, sum(judged), sum(failures), min(first_fail), max(last_fail)
            FROM {summary(ds, "incident_cells")} GROUP BY ALL"""):
        out[int(window)][(service, event, exchange)] = _Cell(int(judged), int(failures), first, last)
    return out


def _abnormal(cell: _Cell) -> bool:
    return cell.failures >= MIN_FAILURES and cell.failures >= MIN_SHARE * cell.judged


def _runs(cells: dict[int, dict[Group, _Cell]]) -> list[_Run]:
    """Return the runs of abnormal windows, bridged over ``GAP_WINDOWS`` and widened to adjacent failures."""
    runs: list[_Run] = []
    for window in sorted(cells):
        bad = {group for group, cell in cells[window].items() if _abnormal(cell)}
        if not bad:
            continue
        if runs and window - runs[-1].last <= GAP_WINDOWS + 1:
            runs[-1].last = window
            runs[-1].groups |= bad
        else:
            runs.append(_Run(window, window, bad))
    for run in runs:
        def failing(window: int, run: _Run = run) -> bool:
            return any(cells.get(window, {}).get(g, _Cell(0, 0, None, None)).failures for g in run.groups)
        while failing(run.first - 1):
            run.first -= 1
        while failing(run.last + 1):
            run.last += 1
    return runs


def find_incidents(ds: Dataset) -> list[dict[str, Any]]:
    """Return the incidents: first and last failure, recovery time, failures, and their causes."""
    cells = _cells(ds)
    newest = max(cells, default=None)
    incidents = []
    for run in _runs(cells):
        picked = [cells[w][g] for w in range(run.first, run.last + 1) for g in run.groups if g in cells.get(w, {})]
        failed = [c for c in picked if c.failures]
        start = min(c.first for c in failed if c.first is not None)
        end = max(c.last for c in failed if c.last is not None)
        failures = sum(c.failures for c in failed)
        judged = sum(c.judged for c in picked)
        windows = (run.first, run.last)
        incidents.append({
            "start": iso(start), "end": iso(end), "recovery_seconds": round((end - start).total_seconds(), 3),
            "ongoing": run.last == newest, "failures": failures, "judged_outcomes": judged,
            "failure_share": round(failures / judged, 4) if judged else None,
            "resolution_seconds": RESOLUTION_S,
            "groups": [{"service": s, "event": e, "exchange": x} for s, e, x in sorted(run.groups, key=str)],
            "top_causes": causes(ds, windows, run.groups),
        })
    return incidents


def causes(ds: Dataset, windows: tuple[int, int], groups: set[Group], top: int = 5) -> list[dict[str, Any]]:
    """Return the failures of the incident's groups in its windows by type, commonest first."""
    rows = ds.dicts(f"""SELECT type, event, exchange, service, sum(failures)::BIGINT AS failures
                        FROM {summary(ds, "incident_cells")} WHERE failures > 0 AND w BETWEEN ? AND ?
                        GROUP BY ALL""", list(windows))
    kept = [r for r in rows if (r["service"], r["event"], r["exchange"]) in groups]
    kept.sort(key=lambda r: (-r["failures"], str(r["type"]), str(r["event"]), str(r["exchange"])))
    for row in kept:
        row["cause"] = describe_cause(row)
    return kept[:top]


def describe_cause(row: dict[str, Any]) -> str:
    """Return a cause as one line of text, e.g. ``rate_limit on bybit (exchange_api_call, market-data): 10``."""
    where = f" on {row['exchange']}" if row.get("exchange") else ""
    return f"{row['type']}{where} ({row['event'] or 'no event'}, {row['service']}): {row['failures']}"
