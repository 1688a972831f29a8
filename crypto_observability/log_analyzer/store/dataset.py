"""The analyses over the central store: every summary computed by ClickHouse, fetched, and analysed as files are.

A report reads the summary relations of ``summary.TABLES`` (and ``problem_records``, the WARNING+ rows pattern
mining needs), never the rows. Here each of them is computed in the store, GROUP BY on the server with the filters
in its WHERE, from the very SELECT the file road runs in DuckDB (``summary.summary_select`` in the ClickHouse
dialect), and fetched as Arrow into a local DuckDB table of the same name and types: every analysis then runs
unchanged on a ``StoreDataset``. ``counts``, ``latency``, ``latency_by_minute``, ``journey_parts``,
``incident_cells`` and ``commits`` come from the store's own summaries (materialized views fed on insert) when the
filters allow as on the file road (``summary.FILTERABLE``), so a report over a billion rows reads summaries, not
rows. Percentiles come from the histograms (``exact`` is False).

What has no counterpart in the store: a record's line position. ``seq`` (the order of records of the same
millisecond) is a hash of the record's text: deterministic, whatever the order records were loaded in.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from crypto_observability.log_analyzer.dialect import CLICKHOUSE, CLICKHOUSE_SETTINGS, string_list
from crypto_observability.log_analyzer.engine import Dataset, EngineSettings, connect, empty_select
from crypto_observability.log_analyzer.errors_base import InputError
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.schema import ALL_COLUMNS, ERRORS_COLUMNS, PROBLEM_LEVELS
from crypto_observability.log_analyzer.store.connection import StoreAddress, parse_store_url
from crypto_observability.log_analyzer.store.connection import connect as connect_store
from crypto_observability.log_analyzer.store.migrations import applied_versions, available
from crypto_observability.log_analyzer.summary import (
    DIMS,
    FILTERABLE,
    INCIDENT_RESOLUTION_S,
    LATENCY_KEYS,
    MINUTE,
    TABLES,
    summary_select,
)

Progress = Callable[[str], None]  # told the name of each stage as it starts
KEPT = ("journey_parts", "incident_cells", "commits")  # the summaries schema v6 keeps whole (no per-minute grain)

# the flat columns as the store's ``logs`` holds them (schema v2/v3 ALIAS columns); where the store keeps an empty
# string for an absent field the file road has NULL, and times are read as UTC
_ROW_EXPRESSIONS = {"ts": "toTimeZone(Timestamp, 'UTC')", "module": "nullIf(ScopeName, '')"}
_SEQ = "toInt64(bitShiftRight(cityHash64(Record), 1))"
# the physical columns a point lookup should name, so the store's skip indexes serve it
_INDEXED = {"request_id": "RequestId", "user": "UserHash"}
ROW_SHAPE = f"(SELECT * EXCLUDE (_ok) FROM ({empty_select(ALL_COLUMNS)}))"  # the rows' shape, in DuckDB


def stored_rows(database: str, filters: Filters, extra: str = "TRUE") -> str:
    """Return the ClickHouse relation of the filtered records as the flat columns and ``seq``."""
    columns = ", ".join(f'{_ROW_EXPRESSIONS.get(c, _quoted(c))} AS "{c}"' for c in ALL_COLUMNS)
    return (f"(SELECT {columns}, {_SEQ} AS seq FROM {database}.logs "
            f"WHERE {filters.where(CLICKHOUSE)} AND {_pruning(filters)} AND {extra})")


def _pruning(filters: Filters) -> str:
    """Return the time range on the table's sorting and partition column, so the store skips what is outside."""
    terms = []
    if filters.since:
        terms.append(f"TimestampTime >= toDateTime('{filters.since.strftime('%Y-%m-%d %H:%M:%S')}', 'UTC')")
    if filters.until:
        terms.append(f"TimestampTime <= toDateTime('{filters.until.strftime('%Y-%m-%d %H:%M:%S')}', 'UTC')")
    return " AND ".join(terms) or "TRUE"


def _whole_windows(filters: Filters, seconds: int) -> tuple[datetime | None, datetime | None]:
    """Return the start of the first and the end of the last whole ``seconds``-second window (aligned on the
    epoch) inside the time filters' range (None where that side is open)."""
    def floor(t: datetime) -> datetime:
        return t - timedelta(seconds=t.timestamp() % seconds)
    start = end = None
    if filters.since:
        start = floor(filters.since)
        start += timedelta(seconds=seconds) if start < filters.since else timedelta(0)
    if filters.until:
        end = floor(filters.until)
    return start, end


def _cut_rows(start: datetime | None, end: datetime | None) -> str:
    """Return the predicate on the rows selecting those outside [start, end): the cut windows at the edges."""
    edges = [f"ts < {CLICKHOUSE['timestamp'].format(f'{t:%Y-%m-%d %H:%M:%S}')}" for t in [start] if t]
    edges += [f"ts >= {CLICKHOUSE['timestamp'].format(f'{t:%Y-%m-%d %H:%M:%S}')}" for t in [end] if t]
    return " OR ".join(edges) or "FALSE"


def _whole_minutes(filters: Filters) -> tuple[str, str]:
    """Return (on the per-minute summaries, on the rows) predicates splitting the time filters' range into the
    whole minutes inside it and the rest (the cut minutes at its edges)."""
    start, end = _whole_windows(filters, MINUTE)
    minutes = [f"minute >= toDateTime('{start:%Y-%m-%d %H:%M:%S}', 'UTC')"] if start else []
    minutes += [f"minute < toDateTime('{end:%Y-%m-%d %H:%M:%S}', 'UTC')"] if end else []
    return " AND ".join(minutes) or "TRUE", _cut_rows(start, end)


def _merged(table: str, database: str, columns: Sequence[tuple[str, str]], where: str) -> str:
    """Return the SELECT merging the parts of kept summary ``table`` (its (name, type) ``columns``): each
    SimpleAggregateFunction column by its function, each AggregateFunction state by its -Merge (a value kept as a
    one-element tuple unwrapped: dialect.CLICKHOUSE_STATE), the rest keys."""
    out = []
    for name, kind in columns:
        simple, state = re.match(r"SimpleAggregateFunction\((\w+),", kind), re.match(r"AggregateFunction\((\w+),", kind)
        function = simple.group(1) if simple else state.group(1) + "Merge" if state else None
        unwrap = ".1" if state and ", Tuple(" in kind else ""
        out.append(f'{function}("{name}"){unwrap} AS "{name}"' if function else f'"{name}"')
    return (f"SELECT {', '.join(out)} FROM {database}.{table} WHERE {where} GROUP BY ALL "
            "SETTINGS aggregate_functions_null_for_empty = 0")  # -Merge of a state is not rewritten to -OrNull


def _kept(table: str, database: str, filters: Filters, columns: Sequence[tuple[str, str]]) -> str | None:
    """Return the SELECT reading ``journey_parts``, ``incident_cells`` or ``commits`` from the store's kept summary
    (schema v6) when the filters allow as on the file road (``summary.FILTERABLE``), else None. ``incident_cells``
    takes the whole 10 s windows of a time range from the summary and the cut ones from the rows."""
    if filters.levels or (filters.services and "service" not in FILTERABLE[table]):
        return None
    where = replace(filters, since=None, until=None).where(CLICKHOUSE)
    if table != "incident_cells":
        return None if filters.since or filters.until else _merged(table, database, columns, where)
    start, end = _whole_windows(filters, INCIDENT_RESOLUTION_S)
    windows = [f"w >= {int(start.timestamp()) // INCIDENT_RESOLUTION_S}"] if start else []
    windows += [f"w < {int(end.timestamp()) // INCIDENT_RESOLUTION_S}"] if end else []
    kept = _merged(table, database, columns, " AND ".join([where, *windows]))
    if not (start or end):
        return kept
    rest = summary_select(table, stored_rows(database, filters, f"({_cut_rows(start, end)})"), CLICKHOUSE)
    return f"SELECT * FROM ({kept}) UNION ALL {rest}"  # the windows of the two sides never overlap


def _summarised(table: str, database: str, filters: Filters, columns: Sequence[tuple[str, str]] = ()) -> str | None:
    """Return the SELECT reading ``table`` from the store's materialized summaries, or None when they cannot serve.

    They serve when the filters other than time are on their keys (``counts``: service and level; ``latency``:
    service; the kept summaries of ``KEPT``: see ``_kept``); the minutes a ``--since``/``--until`` cuts are
    summarised from the rows.
    """
    if table in KEPT:
        return _kept(table, database, filters, columns)
    if (filters.levels and table != "counts") or table not in ("counts", "latency", "latency_by_minute"):
        return None
    where = replace(filters, since=None, until=None).where(CLICKHOUSE)
    minutes, edges = _whole_minutes(filters)
    minute = "toDateTime64(minute, 0, 'UTC')"
    if table == "counts":
        dims = ", ".join("nullIf(module, '')" if d == "module" else d for d in DIMS)
        resources = ", ".join(f"sum({m}_n), if(sum({m}_n) = 0, NULL, sum({m}_sum)), max({m}_max)"
                              for m in ("mem", "cpu"))
        rest = stored_rows(database, filters, f"({edges})")
        return (f"SELECT {minute}, {dims}, sum(n), min(first_ts), max(last_ts), {resources}, sum(hits_sum), "
                f"sum(misses_sum) FROM {database}.counts WHERE {where} AND {minutes} "
                f"GROUP BY ALL UNION ALL {summary_select('counts', rest, CLICKHOUSE)}")
    keys = ", ".join(LATENCY_KEYS) if table == "latency" else f"{minute} AS c_minute"
    rest = summary_select(table, stored_rows(database, filters, f"({edges})"), CLICKHOUSE)
    both = (f"SELECT {keys}, bin, sum(n) AS c_n, min(lo) AS c_lo, max(hi) AS c_hi FROM {database}.latency "
            f"WHERE {where} AND {minutes} GROUP BY ALL UNION ALL {rest}")
    outer = ", ".join(LATENCY_KEYS) if table == "latency" else "c_minute"  # a bucket may be in both: merged
    return f"SELECT {outer}, bin, sum(c_n), min(c_lo), max(c_hi) FROM ({both}) GROUP BY ALL"



@dataclass
class StoreDataset(Dataset):
    """A Dataset whose summary relations were computed by the store; rows are fetched only a few at a time."""

    client: Any = None
    database: str = ""

    def fetch(self, name: str, query: str, shape: str) -> str:
        """Run ``query`` in the store into DuckDB table ``name``, typed as DuckDB types ``shape`` (a SELECT)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM ({shape}) LIMIT 0")
        columns = self.con.execute(f"DESCRIBE {name}").fetchall()
        try:
            fetched = self.client.query_arrow(query, settings=CLICKHOUSE_SETTINGS)
        except Exception as exc:  # the driver's errors are many; each becomes one clear line
            raise InputError(f"the store failed a query ({name}): {_first_line(exc)}") from exc
        # the store keeps an absent list as an empty one; the file road has NULL
        casts = ", ".join(f"CAST({_nulled(c) if c == 'flags' else _quoted(c)} AS {kind})" for c, kind, *_ in columns)
        self.con.register("_fetched", fetched)
        try:
            names = ", ".join(f'"{c}"' for c, *_ in columns)
            self.con.execute(f"INSERT INTO {name} SELECT {casts} FROM (SELECT * FROM _fetched) AS f({names})")
        finally:
            self.con.unregister("_fetched")
        return name

    def rows_with(self, column: str, values: Sequence[str]) -> str:
        """Fetch the filtered records whose ``column`` is one of ``values`` (a point lookup in the store)."""
        physical = _INDEXED.get(column, f'"{column}"')
        query = f"SELECT * FROM {stored_rows(self.database, self.filters, f'{physical} IN ({string_list(values)})')}"
        return self.fetch(f"rows_{next(_tables)}", query, ROW_SHAPE)

    def summary_at(self, table: str, seconds: int) -> str:
        """Return summary ``table`` at a grain of ``seconds``: the fetched per-minute table, or computed anew."""
        name = table if seconds % MINUTE == 0 else f"{table}_{int(seconds)}s"
        if self.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]):
            return name  # fetched already (the per-minute tables always are)
        query = summary_select(table, stored_rows(self.database, self.filters), CLICKHOUSE, grain=seconds)
        return self.fetch(name, query, summary_select(table, ROW_SHAPE, grain=seconds))

    def count_before_filters(self) -> int:
        """Return how many records the store holds."""
        return int(self._store_scalar(f"SELECT count() FROM {self.database}.logs"))

    def last_written(self) -> float:
        """Return when the store last received records (its newest part of ``logs``), in epoch seconds."""
        return float(self._store_scalar(
            "SELECT toUnixTimestamp(max(modification_time)) FROM system.parts WHERE active AND database = "
            f"'{self.database}' AND table = 'logs'") or 0)

    def _store_scalar(self, query: str) -> Any:
        try:
            return self.client.query(query, settings=CLICKHOUSE_SETTINGS).result_rows[0][0]
        except Exception as exc:  # the driver's errors are many; each becomes one clear line
            raise InputError(f"the store failed a query: {_first_line(exc)}") from exc

    def close(self) -> None:
        """Release DuckDB and the store's client."""
        super().close()
        self.client.close()


_tables = itertools.count()


def _quoted(column: str) -> str:
    return f'"{column}"'


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _nulled(column: str) -> str:
    return f'CASE WHEN len("{column}") = 0 THEN NULL ELSE "{column}" END'


def _check_schema(client: Any, address: StoreAddress) -> None:
    """Raise InputError unless the store holds the newest schema (``log-analyzer clickhouse init`` makes it)."""
    try:
        versions = applied_versions(client, address.database)
    except Exception as exc:  # the driver's errors are many; each becomes one clear line
        raise InputError(f"cannot read the store {address}: {_first_line(exc)}") from exc
    newest = max(m.version for m in available())
    if max(versions, default=0) < newest:
        found = f"schema version {max(versions)}" if versions else "no log schema"
        raise InputError(f"the store {address} has {found}, the analyzer needs version {newest}: "
                         f"run log-analyzer clickhouse init --url {address.url}")


def load_store(url_or_address: str | StoreAddress, filters: Filters | None = None, progress: Progress | None = None,
               *, problems_only: bool = False, settings: EngineSettings | None = None) -> Dataset:
    """Compute the summaries of the filtered records in the store and return them as a Dataset.

    ``problems_only`` (what error patterns need) fetches only ``problem_records`` and the time range.
    """
    address = parse_store_url(url_or_address) if isinstance(url_or_address, str) else url_or_address
    filters = filters or Filters()
    client = connect_store(address)
    try:
        _check_schema(client, address)
        settings = settings or EngineSettings()
        tmp = tempfile.TemporaryDirectory(prefix="log-analyzer-", dir=settings.temp_dir)
        ds = StoreDataset(connect(settings, tmp.name), [], filters, _tmp=tmp, exact=False, source=address.url,
                          summarised=not problems_only, client=client, database=address.database)
    except BaseException:
        client.close()
        raise
    try:
        _fill(ds, filters, progress, problems_only)
    except BaseException:
        ds.close()
        raise
    return ds


def _fill(ds: StoreDataset, filters: Filters, progress: Progress | None, problems_only: bool) -> None:
    """Fetch ``problem_records`` and (unless ``problems_only``) every summary relation into ``ds``."""
    db = ds.database
    if progress:
        progress("problem_records")
    levels = ", ".join(f"'{lvl}'" for lvl in PROBLEM_LEVELS)
    names = ", ".join(f'"{c}"' for c in ERRORS_COLUMNS)
    ds.fetch("problem_records", f"SELECT {names} FROM {stored_rows(db, filters, f'level IN ({levels})')}",
             f"SELECT {names} FROM {ROW_SHAPE}")
    if problems_only:
        cut = filters.since or filters.until  # else the per-minute summaries hold the range
        query = (f"SELECT min(ts), max(ts) FROM {stored_rows(db, filters)}" if cut else
                 f"SELECT min(first_ts), max(last_ts) FROM {db}.counts WHERE {filters.where(CLICKHOUSE)}")
        ds.fetch("span", query, "SELECT ts AS lo, ts AS hi FROM " + ROW_SHAPE)
        row = ds.rows("SELECT lo, hi FROM span")
        ds.time_range = (row[0][0], row[0][1]) if row else (None, None)
        return
    for table in TABLES:
        if progress:
            progress(table)
        columns = ds.client.query("SELECT name, type FROM system.columns WHERE database = {db:String} AND table = "
                                  "{t:String} AND default_kind = '' ORDER BY position",
                                  parameters={"db": db, "t": table}).result_rows if table in KEPT else ()
        query = _summarised(table, db, filters, columns) or summary_select(table, stored_rows(db, filters), CLICKHOUSE)
        ds.fetch(table, query, summary_select(table, ROW_SHAPE))

