"""The typed shape DuckDB reads our records into, and the flat columns every analysis queries.

One place owns the mapping from the log-record contract to SQL, so a new context field is one line.
"""

from __future__ import annotations

import json

LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PROBLEM_LEVELS: tuple[str, ...] = ("WARNING", "ERROR", "CRITICAL")
ERROR_LEVELS: tuple[str, ...] = ("ERROR", "CRITICAL")
CACHE_VERSION = 1

CONTEXT_FIELDS: dict[str, tuple[str, str]] = {
    # flat column: (context key, SQL type)
    "rt": ("response_time_ms", "DOUBLE"),
    "success": ("success", "BOOLEAN"),
    "method": ("method", "VARCHAR"),
    "path": ("path", "VARCHAR"),
    "status_code": ("status_code", "INTEGER"),
    "command": ("command", "VARCHAR"),
    "exchange": ("exchange", "VARCHAR"),
    "symbol": ("symbol", "VARCHAR"),
    "error_type": ("error_type", "VARCHAR"),
    "operation": ("operation", "VARCHAR"),
    "hit": ("hit", "BOOLEAN"),
    "kind": ("kind", "VARCHAR"),
    "flags": ("flags", "VARCHAR[]"),
    "component": ("component", "VARCHAR"),
    "healthy": ("healthy", "BOOLEAN"),
    "retry_after": ("retry_after", "DOUBLE"),
}

RECORD_TYPES: dict[str, object] = {
    "timestamp": "TIMESTAMP",
    "service": "VARCHAR",
    "module": "VARCHAR",
    "level": "VARCHAR",
    "message": "VARCHAR",
    "context": {key: sql for key, sql in CONTEXT_FIELDS.values()},
    "performance": {"memory_usage_mb": "DOUBLE", "cpu_percent": "DOUBLE"},
    "event": "VARCHAR",
    "logger": "VARCHAR",
    "request_id": "VARCHAR",
    "user": "VARCHAR",
    "error": {"type": "VARCHAR", "category": "VARCHAR", "severity": "VARCHAR", "fingerprint": "VARCHAR"},
    "exception": {"type": "VARCHAR", "message": "VARCHAR"},
}

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"


def _sql_type(spec: object) -> str:
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in spec.items()) + ")"
    return str(spec)


def columns_literal() -> str:
    """Return the ``columns={...}`` struct literal for read_ndjson."""
    return "{" + ", ".join(f"'{k}': '{_sql_type(v)}'" for k, v in RECORD_TYPES.items()) + "}"


def json_structure() -> str:
    """Return the JSON structure json_transform needs to type a Docker-wrapped record."""
    return json.dumps(RECORD_TYPES)


def flat_select(alias: str) -> str:
    """Return the SELECT list turning a typed record ``alias`` into the flat analysis columns."""
    parts = [
        f"{alias}.timestamp AS ts", f"{alias}.service AS service", f"{alias}.module AS module",
        f"{alias}.level AS level", f"{alias}.message AS message", f"{alias}.event AS event",
        f"{alias}.logger AS logger", f"{alias}.request_id AS request_id", f'{alias}."user" AS "user"',
    ]
    parts += [f"{alias}.context.{key} AS {flat}" for flat, (key, _) in CONTEXT_FIELDS.items()]
    parts += [
        f"{alias}.performance.memory_usage_mb AS memory_mb", f"{alias}.performance.cpu_percent AS cpu_percent",
        f"{alias}.error.type AS err_type", f"{alias}.error.category AS err_category",
        f"{alias}.error.severity AS err_severity", f"{alias}.error.fingerprint AS fingerprint",
        f"{alias}.exception.type AS exc_type", f"{alias}.exception.message AS exc_message",
    ]
    return ", ".join(parts)


def valid_predicate(alias: str) -> str:
    """Return the SQL test that a typed row is one of our records (not a foreign or broken line)."""
    levels = ", ".join(f"'{lvl}'" for lvl in LEVELS)
    return (f"({alias}.timestamp IS NOT NULL AND {alias}.service IS NOT NULL "
            f"AND {alias}.level IN ({levels}) AND {alias}.message IS NOT NULL)")
