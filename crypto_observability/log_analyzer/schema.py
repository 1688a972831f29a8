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
CACHE_VERSION = 9  # 4: summary tables beside the rows; 5: fixed-point sums; 6: RFC 3339 times, status codes;
# 7: incident cells, commits and starts summaries; 8: incident windows rounded down (aligned on the epoch);
# 9: a record with an empty service is not a record (as the store's check has it)

FLAT_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    # flat column: (path in the record, SQL type)
    "ts": (("timestamp",), "VARCHAR"),  # any RFC 3339 form, normalised to naive UTC (timestamp_sql)
    "service": (("service",), "VARCHAR"),
    "module": (("module",), "VARCHAR"),
    "level": (("level",), "VARCHAR"),
    "message": (("message",), "VARCHAR"),
    "event": (("event",), "VARCHAR"),
    "request_id": (("request_id",), "VARCHAR"),
    "user": (("user",), "VARCHAR"),
    "git_commit": (("git_commit",), "VARCHAR"),
    "rt": (("context", "response_time_ms"), "DOUBLE"),
    "success": (("context", "success"), "BOOLEAN"),
    "method": (("context", "method"), "VARCHAR"),
    "path": (("context", "path"), "VARCHAR"),
    "status_code": (("context", "status_code"), "INTEGER"),
    "command": (("context", "command"), "VARCHAR"),
    "exchange": (("context", "exchange"), "VARCHAR"),
    "error_type": (("context", "error_type"), "VARCHAR"),
    "operation": (("context", "operation"), "VARCHAR"),
    "hit": (("context", "hit"), "BOOLEAN"),
    "flags": (("context", "flags"), "VARCHAR[]"),
    "component": (("context", "component"), "VARCHAR"),
    "healthy": (("context", "healthy"), "BOOLEAN"),
    "config_hash": (("context", "config_hash"), "VARCHAR"),
    "cache_hits": (("context", "hits"), "BIGINT"),  # cache_stats: one interval's counts
    "cache_misses": (("context", "misses"), "BIGINT"),
    "memory_mb": (("performance", "memory_usage_mb"), "DOUBLE"),
    "cpu_percent": (("performance", "cpu_percent"), "DOUBLE"),
    "err_type": (("error", "type"), "VARCHAR"),
    "fingerprint": (("error", "fingerprint"), "VARCHAR"),
    "exc_type": (("exception", "type"), "VARCHAR"),
}
ALL_COLUMNS: tuple[str, ...] = tuple(FLAT_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = ("ts", "service", "level", "message")  # what makes a line one of our records
ERRORS_COLUMNS: tuple[str, ...] = ("ts", "service", "module", "level", "message", "user", "fingerprint")

# where the seed's own example puts a field the analyzer keys on, besides our place for it
ALTERNATIVE_PATHS: dict[str, tuple[str, ...]] = {
    "request_id": ("context", "request_id"),
}


def normalise(columns: Iterable[str] | None) -> tuple[str, ...]:
    """Return the flat columns to read, in schema order, always including the required ones."""
    wanted = set(ALL_COLUMNS if columns is None else columns) | set(REQUIRED_COLUMNS)
    unknown = wanted - set(ALL_COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}; known: {', '.join(ALL_COLUMNS)}")
    return tuple(c for c in ALL_COLUMNS if c in wanted)


def _paths(column: str) -> list[tuple[str, ...]]:
    path = FLAT_COLUMNS[column][0]
    return [path, ALTERNATIVE_PATHS[column]] if column in ALTERNATIVE_PATHS else [path]


def record_types(columns: Iterable[str] | None = None) -> dict[str, object]:
    """Return the nested {field: type} shape holding the given flat columns."""
    shape: dict[str, object] = {}
    for column in normalise(columns):
        sql = FLAT_COLUMNS[column][1]
        for path in _paths(column):
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
        fields = [f"{alias}." + ".".join(f'"{key}"' for key in path) for path in _paths(column)]
        value = fields[0] if len(fields) == 1 else f"coalesce({', '.join(fields)})"
        if FLAT_COLUMNS[column][1] == "DOUBLE":  # 1e400 reads as inf: not a measure (the store keeps it NULL too)
            value = f"CASE WHEN isfinite({value}) THEN {value} END"
        parts.append(f'{timestamp_sql(value) if column == "ts" else value} AS "{column}"')
    return ", ".join(parts)


RECORD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"  # what our writers emit: parsed first, the cheap way


def timestamp_sql(text: str) -> str:
    """Return SQL turning an RFC 3339 string (any fraction, ``Z`` or an offset, or none: UTC) into naive UTC.

    Our own shape goes through a fixed-format parse (half the cost); only other forms take the general cast.
    """
    return (f"coalesce(try_strptime({text}, '{RECORD_TIME_FORMAT}'), "
            f"timezone('UTC', try_cast(upper({text}) AS TIMESTAMPTZ)))")


def valid_predicate(alias: str) -> str:
    """Return the SQL test that a typed row is one of our records (not a foreign or broken line)."""
    levels = ", ".join(f"'{lvl}'" for lvl in LEVELS)
    return (f"({timestamp_sql(f'{alias}.timestamp')} IS NOT NULL AND {alias}.service <> '' "
            f"AND {alias}.level IN ({levels}) AND {alias}.message IS NOT NULL)")
