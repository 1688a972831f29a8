"""The dashboard's tables as plain rows, and one CSV file per table.

Log text is data: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be run as a formula by a spreadsheet, so it is prefixed with ``'`` (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from ._files import open_private, private_dir
from .malformed import MalformedLine

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return a text cell a spreadsheet will show as text, never run as a formula; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _flat(value: Any) -> Any:
    if isinstance(value, list | dict):
        return neutralise(json.dumps(value, sort_keys=True, default=str))
    return neutralise(value)


def tables(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return every table of the dashboard by name (``<section>_<table>``), nested values as JSON text."""
    perf = doc["performance"]
    out: dict[str, list[dict[str, Any]]] = {
        "health_services": [{"service": s["service"], "score": s["score"], "grade": s["grade"],
                             **s["components"], **{k: v for k, v in s["facts"].items() if k != "p95_ms"}}
                            for s in doc["health"]["services"]],
        # the declared columns only: the per-window series and the pasteable search command stay JSON-only
        "errors_patterns": [{k: p.get(k) for k in COLUMNS["errors_patterns"]} for p in doc["errors"]["patterns"]],
        "exchanges": doc["exchanges"]["exchanges"],
        "journeys_slowest": [{k: v for k, v in j.items() if k != "steps"} for j in doc["journeys"]["slowest"]],
        "journeys_failures": [{k: v for k, v in j.items() if k != "steps"} for j in doc["journeys"]["failures"]],
        "journeys_users": doc["journeys"]["users"],
        "timeseries": doc["timeseries"]["buckets"],
        "malformed_lines": doc["input"]["malformed"]["lines"],
    }
    for name, rows in perf.items():
        if isinstance(rows, list):
            out[f"performance_{name}"] = rows
    return {name: [{k: _flat(v) for k, v in row.items()} for row in rows] for name, rows in out.items()}


_JOURNEY = ["request_id", "user", "command", "services", "events", "start", "finish", "duration_ms", "failed",
            "slowest_step", "why"]
_LATENCY = ["count", "p50", "p90", "p95", "p99", "max"]
_SUCCESS = ["outcomes", "succeeded", "failures", "user_mistakes", "success_rate"]
# The header of each table when it has no row (an empty table is a header row); a test checks these against the
# columns a full dataset gives, so they cannot drift.
COLUMNS: dict[str, list[str]] = {
    "health_services": ["service", "score", "grade", "error_rate", "latency", "availability", "rate_limiting",
                        "freshness", "records", "errors", "failures", "user_mistakes", "success_rate",
                        "exchange_calls", "rate_limit_hits", "newest_age_seconds"],
    "errors_patterns": ["template", "count", "first_seen", "last_seen", "services", "modules", "fingerprints",
                        "warning", "error", "critical", "users", "example", "trend", "spike", "spike_ratio"],
    "exchanges": ["exchange", "calls", "succeeded", "failures", "rate_limit_hits", "p50_ms", "p95_ms", "max_ms",
                  "success_rate", "errors_by_type", "data_quality_flags", "healthy_ratio", "rank"],
    "journeys_slowest": _JOURNEY,
    "journeys_failures": _JOURNEY,
    "journeys_users": ["user", "journeys", "failed", "p95_ms"],
    "timeseries": ["bucket", "start", "records", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms"],
    "malformed_lines": [f.name for f in fields(MalformedLine)],
    "performance_latency_by_service": ["service", *_LATENCY],
    "performance_latency_by_endpoint": ["service", "method", "path", *_LATENCY],
    "performance_latency_by_command": ["command", *_LATENCY],
    "performance_latency_by_exchange_method": ["exchange", "method", *_LATENCY],
    "performance_command_success": ["command", *_SUCCESS],
    "performance_market_data_success": ["service", *_SUCCESS],
    "performance_exchange_success": ["exchange", *_SUCCESS],
    "performance_connectivity": ["component", "checks", "healthy", "healthy_now", "last_check", "healthy_ratio"],
    "performance_cache": ["service", "hits", "misses", "hit_ratio", "from"],
    "performance_error_rates": ["service", "module", "records", "problems", "errors", "outcomes", "failures",
                                "user_mistakes", "critical", "error_rate", "failure_rate"],
    "performance_failure_types": ["type", "event", "failures", "services", "exchanges"],
    "performance_resources": ["service", "bucket", "start", "memory_avg_mb", "memory_max_mb", "cpu_avg", "cpu_max"],
    "performance_resources_by_service": ["service", "memory_avg_mb", "memory_max_mb", "cpu_avg", "cpu_max",
                                         "samples"],
    "performance_incidents": ["start", "end", "recovery_seconds", "ongoing", "failures", "judged_outcomes",
                              "failure_share", "resolution_seconds", "groups", "top_causes"],
}


def columns_of(name: str, rows: list[dict[str, Any]]) -> list[str]:
    """The CSV header of a table: its rows' keys in order, or its declared columns when it has no row."""
    return list(dict.fromkeys(key for row in rows for key in row)) or COLUMNS.get(name, [])


def export_csv(doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write one ``<table>.csv`` per table (header row even when empty) and return the paths."""
    private_dir(out_dir)
    written = []
    for name, rows in tables(doc).items():
        path = out_dir / f"{name}.csv"
        with open_private(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns_of(name, rows))
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written
