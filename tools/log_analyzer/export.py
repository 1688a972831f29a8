"""The dashboard's tables as plain rows, and one CSV file per table.

Log text is data: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be run as a formula by a spreadsheet, so it is prefixed with ``'`` (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ._files import private_dir, private_file

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
        "errors_patterns": [{k: v for k, v in p.items() if k != "series"} for p in doc["errors"]["patterns"]],
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


def export_csv(doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write one ``<table>.csv`` per table (header row even when empty) and return the paths."""
    private_dir(out_dir)
    written = []
    for name, rows in tables(doc).items():
        path = out_dir / f"{name}.csv"
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns or ["empty"])
            writer.writeheader()
            writer.writerows(rows)
        written.append(private_file(path))
    return written
