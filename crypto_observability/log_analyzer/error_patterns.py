"""Error patterns: WARNING+ messages grouped into templates, with trend and spike detection.

Trend compares a pattern's count in the later half of the analysed range with the earlier half;
a spike is a last window whose count is ``spike_factor`` times the pattern's average before it.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from crypto_observability.log_analyzer._util import bucket_expr, bucket_width_seconds, iso, time_range
from crypto_observability.log_analyzer.engine import Dataset
from crypto_observability.log_analyzer.patterns import mine_templates
from crypto_observability.log_analyzer.redact import redact
from crypto_observability.log_analyzer.schema import PROBLEM_LEVELS
from crypto_observability.log_analyzer.vocabulary import LABELS

RISING, STEADY, FALLING = "rising", "steady", "falling"


def trend(series: list[int], factor: float = 1.5, min_change: int = 3) -> str:
    """Classify a window series as rising, steady or falling by comparing its two halves."""
    half = len(series) // 2
    early, late = sum(series[:half]), sum(series[len(series) - half:])
    if late - early >= min_change and late > factor * early:
        return RISING
    if early - late >= min_change and early > factor * late:
        return FALLING
    return STEADY


def spike(series: list[int], factor: float = 3.0, minimum: int = 5) -> tuple[bool, float | None]:
    """Say whether the last window's count is ``factor`` x the average before it; return the ratio."""
    if len(series) < 2:
        return False, None
    baseline = sum(series[:-1]) / (len(series) - 1)
    last = series[-1]
    value = round(last / baseline, 2) if baseline else None
    return last >= minimum and (baseline == 0 or last >= factor * baseline), value


def _template_table(ds: Dataset) -> int:
    """Copy the WARNING+ records to table ``problems`` (one scan), mine each distinct message's template."""
    levels = ", ".join(f"'{lvl}'" for lvl in PROBLEM_LEVELS)
    ds.con.execute('CREATE OR REPLACE TEMP TABLE problems AS SELECT ts, service, module, level, message, "user", '
                   f"fingerprint FROM problem_records WHERE level IN ({levels})")
    # the miner's groups depend on the order it sees messages in: sorted, whatever the scan order (on our
    # logs sorted input also groups best: fewer templates than first-seen or most-frequent order)
    messages = [row[0] for row in ds.rows("SELECT DISTINCT message FROM problems ORDER BY message")]
    templates = mine_templates(messages) if messages else []
    ds.con.execute("CREATE OR REPLACE TEMP TABLE tpl AS SELECT unnest(?::VARCHAR[]) AS message, "
                   "unnest(?::VARCHAR[]) AS template", [messages, templates])
    return len(messages)


FINDINGS = ("new", "spike", "rising", "any")


def findings(patterns: list[dict[str, Any]], kinds: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """The patterns that are findings of ``kinds``: new (only in the last window), spike, rising, or any."""
    def hit(p: dict[str, Any], kind: str) -> bool:
        series = p["series"]
        return {"any": True, "spike": bool(p["spike"]), "rising": p["trend"] == RISING,
                "new": bool(series) and series[-1] > 0 and not any(series[:-1])}[kind]
    return [p for p in patterns if any(hit(p, kind) for kind in kinds)]


def analyze_errors(ds: Dataset, windows: int = 12, top: int = 25, spike_factor: float = 3.0,
                   spike_minimum: int = 5) -> dict[str, Any]:
    """Group problems (WARNING+ records, or the levels kept) into templates: counts, users, trend, spikes."""
    start, end = time_range(ds)
    distinct = _template_table(ds)
    kept = [lvl for lvl in PROBLEM_LEVELS if not ds.filters.levels or lvl in ds.filters.levels]
    label = LABELS["problems"] if kept == list(PROBLEM_LEVELS) else f"records at {', '.join(kept) or 'no level'}"
    result: dict[str, Any] = {"windows": windows, "distinct_messages": distinct, "patterns": [], "spikes": [],
                              "total": 0, "counts": label, "window_seconds": None}
    if start is None or end is None or not distinct:
        return result
    width = bucket_width_seconds(start, end, windows)
    result["window_seconds"] = width
    base = "FROM problems JOIN tpl USING (message) WHERE TRUE"
    summary = ds.dicts(f"""
        SELECT template, count(*) AS count, min(ts) AS first_seen, max(ts) AS last_seen,
               list(DISTINCT service ORDER BY service) AS services, list(DISTINCT module ORDER BY module) AS modules,
               list(DISTINCT fingerprint ORDER BY fingerprint) FILTER (WHERE fingerprint IS NOT NULL) AS fingerprints,
               count(*) FILTER (WHERE level = 'WARNING') AS warning, count(*) FILTER (WHERE level = 'ERROR') AS error,
               count(*) FILTER (WHERE level = 'CRITICAL') AS critical, count(DISTINCT "user") AS users,
               arg_max(message, (ts, message)) AS example
        {base} GROUP BY template ORDER BY count DESC, template LIMIT {int(top)}""")
    names = [row["template"] for row in summary]
    series: dict[str, list[int]] = {name: [0] * windows for name in names}
    for name, bucket, count in ds.rows(
            f"SELECT template, {bucket_expr(start, width, windows)} AS b, count(*) {base} "
            f"AND template IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [names]):
        series[name][bucket] += count
    result["total"] = int(ds.scalar("SELECT count(*) FROM problems") or 0)
    for row in summary:
        counts = series[row["template"]]
        is_spike, spike_ratio = spike(counts, spike_factor, spike_minimum)
        row.update(first_seen=iso(row["first_seen"]), last_seen=iso(row["last_seen"]),
                   fingerprints=row["fingerprints"] or [], example=redact(row["example"]),
                   trend=trend(counts), spike=is_spike, spike_ratio=spike_ratio, series=counts,
                   search=search_command(ds, row["template"], kept))
        result["patterns"].append(row)
        if is_spike:
            result["spikes"].append({"template": row["template"], "last_window": counts[-1],
                                     "ratio": spike_ratio})
    if result["patterns"]:
        result["see_examples"] = result["patterns"][0]["search"]
    return result


def template_regex(template: str) -> str:
    """Return a regular expression matching a template's messages (each <*> any run of characters)."""
    return "^" + ".*?".join(re.escape(part) for part in template.split("<*>")) + "$"


def search_command(ds: Dataset, template: str, levels: list[str]) -> str:
    """Return the ``log-analyzer search`` command listing a pattern's lines, for an operator to paste."""
    where = sorted({str(f.path.parent) for f in ds.files})
    paths = ["--source", ds.source] if ds.source else [os.path.commonpath(where)] if len(where) > 3 else where
    words = ["log-analyzer", "search", *paths, *(f"--level={lvl}" for lvl in levels), "--regex",
             template_regex(template)]
    return shlex.join(words)
