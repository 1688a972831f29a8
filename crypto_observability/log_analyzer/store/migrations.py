"""Apply the store's schema: numbered SQL files in ``schema/``, each once, in order, recorded in the store.

A file is a list of statements separated by ``;`` at the end of a line, with ``{db}`` and ``{ttl_days}`` filled
in. A line ``-- backfill: VIEW`` summarises the rows already stored through materialized view VIEW's own SELECT,
so a summary added by a later version covers old rows without a second copy of its definition. ``{summary:TABLE}``
is the SELECT of summary ``TABLE`` over ``logs`` (``summary.summary_select`` in the ``CLICKHOUSE_STATE`` dialect),
so a materialized view keeps a summary by its one definition; it is rendered when the version is applied, and a
store keeps the view it was given (a later change of a summary's meaning is a new version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto_observability.log_analyzer.dialect import CLICKHOUSE_STATE
from crypto_observability.log_analyzer.summary import summary_select

SCHEMA_DIR = Path(__file__).with_name("schema")
DEFAULT_TTL_DAYS = 30
_FILE = re.compile(r"^(\d{3})_(\w+)\.sql$")
_BACKFILL = re.compile(r"^-- backfill: (\w+)\s*$", re.MULTILINE)
_SUMMARY = re.compile(r"\{summary:(\w+)\}")


@dataclass(frozen=True)
class Migration:
    """One version of the schema: its number, name and SQL text."""

    version: int
    name: str
    sql: str

    def statements(self, database: str, ttl_days: int) -> list[str]:
        """Return the statements with the placeholders filled in, comments and blanks dropped."""
        body = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        body = _SUMMARY.sub(lambda m: summary_view_select(m.group(1), f"{database}.logs"), body)
        body = body.replace("{db}", database).replace("{ttl_days}", str(ttl_days))
        return [s.strip() for s in re.split(r";\s*$", body, flags=re.MULTILINE) if s.strip()]

    def backfills(self) -> list[str]:
        """Return the materialized views whose SELECT must summarise the rows already stored."""
        return _BACKFILL.findall(self.sql)


def summary_view_select(table: str, source: str) -> str:
    """Return the SELECT a materialized view keeping summary ``table`` of ``source`` runs on each insert: aggregates
    over no row are NULL, as where a report computes the summary from the rows."""
    return summary_select(table, source, CLICKHOUSE_STATE) + " SETTINGS aggregate_functions_null_for_empty = 1"


def available(schema_dir: Path = SCHEMA_DIR) -> list[Migration]:
    """Return the schema's versions in order."""
    found = []
    for path in sorted(schema_dir.glob("*.sql")):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    return found


def applied_versions(client: Any, database: str) -> list[int]:
    """Return the versions already applied to ``database`` (none when it is new)."""
    exists = client.query("SELECT count() FROM system.tables WHERE database = {db:String} "
                          "AND name = 'schema_migrations'", parameters={"db": database}).result_rows[0][0]
    if not exists:
        return []
    rows = client.query(f"SELECT version FROM {database}.schema_migrations ORDER BY version").result_rows
    return [int(r[0]) for r in rows]


def migrate(client: Any, database: str, ttl_days: int = DEFAULT_TTL_DAYS, up_to: int | None = None,
            schema_dir: Path = SCHEMA_DIR) -> list[Migration]:
    """Bring ``database`` to the newest version (or ``up_to``); return the versions applied now."""
    if ttl_days < 1:
        raise ValueError(f"ttl_days={ttl_days} is not valid: expected a whole number of days >= 1")
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations (version UInt32, name String, "
                   "applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version")
    done = set(applied_versions(client, database))
    applied = []
    for migration in available(schema_dir):
        if migration.version in done or (up_to is not None and migration.version > up_to):
            continue
        for statement in migration.statements(database, ttl_days):
            client.command(statement)
        for view in migration.backfills():
            _backfill(client, database, view)
        client.command(f"INSERT INTO {database}.schema_migrations (version, name) "
                       f"VALUES ({migration.version}, '{migration.name}')")
        applied.append(migration)
    return applied


def _backfill(client: Any, database: str, view: str) -> None:
    """Run materialized view ``view``'s own SELECT over the stored rows into its target table."""
    rows = client.query("SELECT as_select, create_table_query FROM system.tables WHERE database = {db:String} "
                        "AND name = {view:String}", parameters={"db": database, "view": view}).result_rows
    target = re.search(r"\bTO\s+([\w.`]+)", rows[0][1]) if rows else None
    if target is None:
        raise RuntimeError(f"backfill: {database}.{view} is not a materialized view with a TO table")
    columns = client.query("SELECT name FROM system.columns WHERE database = {db:String} AND table = {view:String} "
                           "ORDER BY position", parameters={"db": database, "view": view}).result_rows
    names = ", ".join(f"`{c[0]}`" for c in columns)  # the target may have more (filled by their defaults)
    client.command(f"INSERT INTO {target.group(1)} ({names}) {rows[0][0]}")
