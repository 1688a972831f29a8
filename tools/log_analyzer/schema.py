"""The typed shape DuckDB reads our records into, and the flat columns every analysis queries.

One place owns the mapping from the log-record contract to SQL, so a new field is one line. Only the
fields some analysis uses are listed: DuckDB converts just these (the rest of each line is skipped),
and a command that needs fewer (``errors``) asks for a subset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PROBLEM_LEVELS: tuple[str, ...] = ("WARNING", "ERROR", "CRITICAL")
ERROR_LEVELS: tuple[str, ...] = ("ERROR", "CRITICAL")
CACHE_VERSION = 5  # 4: summary tables beside the rows; 5: fixed-point sums

FLAT_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    # flat column: (path in the record, SQL type)
    "ts": (("timestamp",), "TIMESTAMP"),
    "service": (("service",), "VARCHAR"),
    "module": (("module",), "VARCHAR"),
    "level": (("level",), "VARCHAR"),
    "message": (("message",), "VARCHAR"),
    "event": (("event",), "VARCHAR"),
    "request_id": (("request_id",), "VARCHAR"),
    "user": (("user",), "VARCHAR"),
    "rt": (("context", "response_time_ms"), "DOUBLE"),
    "success": (("context", "success"), "BOOLEAN"),
    "method": (("context", "method"), "VARCHAR"),
    "path": (("context", "path"), "VARCHAR"),
    "command": (("context", "command"), "VARCHAR"),
    "exchange": (("context", "exchange"), "VARCHAR"),
    "error_type": (("context", "error_type"), "VARCHAR"),
    "operation": (("context", "operation"), "VARCHAR"),
    "hit": (("context", "hit"), "BOOLEAN"),
    "flags": (("context", "flags"), "VARCHAR[]"),
    "component": (("context", "component"), "VARCHAR"),
    "healthy": (("context", "healthy"), "BOOLEAN"),
    "memory_mb": (("performance", "memory_usage_mb"), "DOUBLE"),
    "cpu_percent": (("performance", "cpu_percent"), "DOUBLE"),
    "err_type": (("error", "type"), "VARCHAR"),
    "fingerprint": (("error", "fingerprint"), "VARCHAR"),
    "exc_type": (("exception", "type"), "VARCHAR"),
}
ALL_COLUMNS: tuple[str, ...] = tuple(FLAT_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = ("ts", "service", "level", "message")  # what makes a line one of our records
ERRORS_COLUMNS: tuple[str, ...] = ("ts", "service", "module", "level", "message", "fingerprint")

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"


def normalise(columns: Iterable[str] | None) -> tuple[str, ...]:
    """Return the flat columns to read, in schema order, always including the required ones."""
    wanted = set(ALL_COLUMNS if columns is None else columns) | set(REQUIRED_COLUMNS)
    unknown = wanted - set(ALL_COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}; known: {', '.join(ALL_COLUMNS)}")
    return tuple(c for c in ALL_COLUMNS if c in wanted)


def record_types(columns: Iterable[str] | None = None) -> dict[str, object]:
    """Return the nested {field: type} shape holding the given flat columns."""
    shape: dict[str, object] = {}
    for column in normalise(columns):
        path, sql = FLAT_COLUMNS[column]
        node = shape
        for key in path[:-1]:
            node = node.setdefault(key, {})  # type: ignore[assignment]
        node[path[-1]] = sql
    return shape


def _sql_type(spec: object) -> str:
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in spec.items()) + ")"
    return str(spec)


def columns_literal(columns: Iterable[str] | None = None) -> str:
    """Return the ``columns={...}`` struct literal for read_ndjson."""
    return "{" + ", ".join(f"'{k}': '{_sql_type(v)}'" for k, v in record_types(columns).items()) + "}"


def record_sql_type(columns: Iterable[str] | None = None) -> str:
    """Return the STRUCT type of a whole typed record."""
    return _sql_type(record_types(columns))


def json_structure(columns: Iterable[str] | None = None) -> str:
    """Return the JSON structure json_transform needs to type a Docker-wrapped record."""
    return json.dumps(record_types(columns))


def flat_select(alias: str, columns: Iterable[str] | None = None) -> str:
    """Return the SELECT list turning a typed record ``alias`` into the flat analysis columns."""
    parts = []
    for column in normalise(columns):
        path, _ = FLAT_COLUMNS[column]
        parts.append(f"{alias}." + ".".join(f'"{key}"' for key in path) + f' AS "{column}"')
    return ", ".join(parts)


def valid_predicate(alias: str) -> str:
    """Return the SQL test that a typed row is one of our records (not a foreign or broken line)."""
    levels = ", ".join(f"'{lvl}'" for lvl in LEVELS)
    return (f"({alias}.timestamp IS NOT NULL AND {alias}.service IS NOT NULL "
            f"AND {alias}.level IN ({levels}) AND {alias}.message IS NOT NULL)")
