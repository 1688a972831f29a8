"""Load log files into DuckDB as one ``records`` view: cached databases for rotated files, JSON for the rest.

Memory is bounded by DuckDB's ``memory_limit`` (spilling to a temporary directory), never by the
size of the input: cached rows are queried where they lie. Bad lines are counted by DuckDB and
located in Python only for files that have some.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from crypto_observability.log_analyzer.cache import PROBLEMS, TABLE, CacheEntry, RecordCache
from crypto_observability.log_analyzer.dialect import string_list
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.malformed import MAX_LISTED, MalformedLine, locate
from crypto_observability.log_analyzer.progress import Progress, ReadProgress
from crypto_observability.log_analyzer.salvage import salvage
from crypto_observability.log_analyzer.schema import (
    ALL_COLUMNS,
    ERRORS_COLUMNS,
    PROBLEM_LEVELS,
    columns_literal,
    flat_select,
    json_structure,
    normalise,
    record_sql_type,
    valid_predicate,
)
from crypto_observability.log_analyzer.sources import LogFile, resolve_with_notes
from crypto_observability.log_analyzer.summary import FILTERABLE, MINUTE, TABLES, summary_select

PROBLEM_SELECT = ", ".join(f'"{c}"' for c in ERRORS_COLUMNS)
PROBLEM_PREDICATE = "level IN (" + ", ".join(f"'{lvl}'" for lvl in PROBLEM_LEVELS) + ")"


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine DuckDB may use."""

    memory_limit: str = "1GB"
    threads: int = max(1, min(4, os.cpu_count() or 1))
    temp_dir: str | None = None


def _q(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _source(path: Path, docker: bool, columns: tuple[str, ...], compressed: bool) -> str:
    """Return a FROM clause typing each line of one file as a record (NULLs for lines that are not).

    Compression is what the file's first bytes say, never its name: a plain file named .gz is plain.
    """
    how = "'gzip'" if compressed else "'none'"
    if docker:
        structure = _q(json_structure(columns))
        return (f"(SELECT CASE WHEN json_valid(log) THEN json_transform(log, {structure}) END AS r "
                f"FROM read_ndjson({_q(path)}, columns={{'log': 'VARCHAR'}}, compression={how}, "
                "ignore_errors=true)) AS d")
    return f"read_ndjson({_q(path)}, columns={columns_literal(columns)}, compression={how}, ignore_errors=true) AS r"


def _typed_select(path: Path, docker: bool, columns: tuple[str, ...], compressed: bool = False) -> str:
    """Return the flat columns, ``_ok`` and the line's position ``seq`` (1, 2, ...) of one file's records."""
    return (f"SELECT {flat_select('r', columns)}, {valid_predicate('r')} AS _ok, row_number() OVER () AS seq "
            f"FROM {_source(path, docker, columns, compressed)}")


def empty_select(columns: tuple[str, ...]) -> str:
    """Return a SELECT of no row with the types of the flat columns, ``_ok`` and ``seq`` (a relation's shape)."""
    typed = f"CAST(NULL AS {record_sql_type(columns)})"
    return (f"SELECT {flat_select('r', columns)}, FALSE AS _ok, 0::BIGINT AS seq "
            f"FROM (SELECT {typed} AS r) WHERE FALSE")


@dataclass
class Dataset:
    """The loaded records (view ``records``, filters applied) plus what loading them found."""

    con: duckdb.DuckDBPyConnection
    files: list[LogFile]
    filters: Filters
    malformed_count: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)
    malformed_by_file: dict[str, int] = field(default_factory=dict)
    cached_files: int = 0
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    time_range: tuple[Any, Any] | None = None  # (first, last) timestamp of ``records``, filled on first use
    exact: bool | None = None  # percentiles from the rows (small input) rather than histograms, decided on first use
    summarised: bool = False  # the summary relations exist (a full read)
    notes: list[str] = field(default_factory=list)  # files skipped (vanished, duplicates) and odd input, for the user
    source: str | None = None  # the store's URL when the records are read from a store (store.dataset), not files

    def rows(self, query: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """Run ``query`` and return its rows as tuples."""
        return self.con.execute(query, params or []).fetchall()

    def dicts(self, query: str, params: Sequence[object] | None = None) -> list[dict[str, Any]]:
        """Run ``query`` and return its rows as dicts keyed by column name."""
        cur = self.con.execute(query, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar(self, query: str, params: Sequence[object] | None = None) -> Any:
        """Run ``query`` and return the first column of its first row."""
        row = self.con.execute(query, params or []).fetchone()
        return row[0] if row else None

    def rows_with(self, column: str, values: Sequence[str]) -> str:
        """Return a relation of the filtered records (flat columns and ``seq``) whose ``column`` is one of ``values``.

        For the few rows an analysis shows in full (a journey's steps); never a scan to summarise.
        """
        return f'(SELECT * FROM records WHERE "{column}" IN ({string_list(values)}))'

    def summary_at(self, table: str, seconds: int) -> str:
        """Return summary ``table`` (``counts`` or ``latency_by_minute``) in windows of ``seconds`` (dividing 60,
        or whole minutes: then the per-minute table itself)."""
        if self.summarised and seconds % MINUTE == 0:
            return table
        return f"({summary_select(table, 'records', grain=seconds)})"

    def count_before_filters(self) -> int:
        """Return how many records the input holds before the filters."""
        return int(self.scalar("SELECT count(*) FROM all_records") or 0)

    def last_written(self) -> float:
        """Return when the input was last written (epoch seconds): its newest file's modification time."""
        return max((f.mtime_ns for f in self.files), default=0) / 1e9

    def close(self) -> None:
        """Release DuckDB and the temporary spill directory."""
        self.con.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def connect(settings: EngineSettings, temp_dir: str) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB that spills to ``temp_dir`` beyond ``memory_limit``."""
    con = duckdb.connect(config={"memory_limit": settings.memory_limit, "threads": settings.threads,
                                 "temp_directory": temp_dir, "preserve_insertion_order": False})
    con.execute("SET TimeZone = 'UTC'")  # a timestamp without an offset is UTC, whatever the machine's zone
    return con


FILE_SHIFT = 32  # seq = file rank << 32 + line position: the order of the input, file by file


class _Loader:
    """Parses JSON, one file per thread: rotated files each into a cache database, the rest into ``loaded``.

    Loading runs one DuckDB thread per statement, so each file's rows keep their line order in ``seq``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tmp: str, columns: tuple[str, ...], files: list[LogFile],
                 settings: EngineSettings, progress: Progress | None, problems_only: str | None = None) -> None:
        self.con, self.tmp, self.columns = con, tmp, columns
        self.progress = ReadProgress(progress) if progress is not None else None
        self.problems_only = problems_only  # the filters' predicate when only WARNING+ rows are kept (see load)
        self.rank = {f: index for index, f in enumerate(files)}
        self.workers = max(1, settings.threads)
        self.bad: dict[str, int] = {}
        self.vanished: list[str] = []  # files listed but gone before they could be read
        self.sources: list[str] = [f"SELECT {self.names}, seq FROM loaded WHERE _ok"]
        self.summarised: list[str] = []  # attached databases that hold their file's summary tables
        self.names_used = itertools.count()  # attached databases are cached_0, cached_1, ...
        self.problems: list[str] = [f"SELECT {PROBLEM_SELECT} FROM loaded WHERE _ok AND {PROBLEM_PREDICATE}"]
        con.execute(f"CREATE TABLE loaded AS {empty_select(columns)}")
        con.execute("CREATE TABLE ranges (lo TIMESTAMP, hi TIMESTAMP)")  # per parsed file, of the rows not kept

    @property
    def names(self) -> str:
        return ", ".join(f'"{c}"' for c in self.columns)

    def each(self, work: Callable[[LogFile], Any], files: list[LogFile]) -> list[Any]:
        """Run ``work`` on every file, one file per thread and one DuckDB thread per file."""
        if not files:
            return []
        self.con.execute("SET threads = 1")
        self.con.execute("SET preserve_insertion_order = true")
        try:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(files))) as pool:
                return list(pool.map(work, files))
        finally:
            self.con.execute(f"SET threads = {self.workers}")
            self.con.execute("SET preserve_insertion_order = false")

    def note_bad(self, log_file: LogFile, count: int) -> tuple[int, list[MalformedLine]]:
        """Walk a file DuckDB found ``count`` bad lines in; record and return how many are bad and which."""
        if count <= 0:
            return 0, []
        exact, listed = locate(log_file.path, log_file.compressed)
        if exact:
            self.bad[str(log_file.path)] = exact
        return exact, listed

    def remember(self, log_file: LogFile, meta: dict[str, object]) -> list[MalformedLine]:
        """Take a cached file's bad-line accounting from its metadata; return its listed bad lines."""
        if int(str(meta.get("bad", 0))):
            self.bad[str(log_file.path)] = int(str(meta["bad"]))
        listed = meta.get("listed", [])
        return [MalformedLine(**m) for m in listed] if isinstance(listed, list) else []

    def watch(self, cur: duckdb.DuckDBPyConnection, log_file: LogFile,
              quiet: bool = False) -> AbstractContextManager[object]:
        """Report ``log_file``'s bytes to the progress callback as ``cur`` reads them (unless ``quiet``)."""
        if self.progress is None or quiet:
            return nullcontext()
        return self.progress.watch(cur, log_file, log_file.size)

    def _into(self, cur: duckdb.DuckDBPyConnection, log_file: LogFile, statement: str, force: bool = False) -> bool:
        """Run ``statement`` (``{select}`` = the file's typed rows); salvage the file if DuckDB cannot read it
        (or when ``force``: DuckDB rejected lines that are records, e.g. Docker lines split at 16 KB).

        Returns whether the file had to be salvaged (it then counts as having bad lines).
        """
        try:
            if force:
                raise duckdb.InvalidInputException("salvage asked for")
            cur.execute(statement.format(select=_typed_select(log_file.path, log_file.docker, self.columns,
                                                              log_file.compressed)))
            return False
        except duckdb.Error:
            clean = salvage(log_file, Path(self.tmp))
            cur.execute(statement.replace("CREATE TABLE", "CREATE OR REPLACE TABLE")
                        .format(select=_typed_select(clean, False, self.columns)))
            return True

    def _kept(self, cur: duckdb.DuckDBPyConnection, log_file: LogFile, offset: int, force: bool = False) -> bool:
        """Parse one file keeping only its bad and WARNING+ rows in ``loaded``, in one scan.

        The other rows are grouped into one (key ``seq`` 0) that keeps just the first and last time of
        those passing the filters, for the analysed time range (``ranges``). Returns whether salvaged.
        """
        keep = f"(NOT _ok OR {PROBLEM_PREDICATE})"
        firsts = ", ".join(f'any_value("{c}") AS "{c}"' for c in self.columns)
        rest = f"_ok AND NOT {keep} AND {self.problems_only}"
        salvaged = self._into(cur, log_file, (
            f"CREATE OR REPLACE TEMP TABLE part AS SELECT {firsts}, bool_and(_ok) AS _ok, g AS seq, "
            f"min(ts) FILTER (WHERE {rest}) AS lo, max(ts) FILTER (WHERE {rest}) AS hi "
            f"FROM (SELECT *, CASE WHEN {keep} THEN seq ELSE 0 END AS g FROM ({{select}})) GROUP BY g"), force)
        cur.execute(f"INSERT INTO loaded SELECT {self.names}, _ok, seq + {offset} FROM part WHERE seq <> 0")
        cur.execute("INSERT INTO ranges SELECT lo, hi FROM part WHERE seq = 0")
        cur.execute("DROP TABLE part")
        return salvaged

    def parse(self, files: list[LogFile]) -> dict[str, list[MalformedLine]]:
        """Read the files' JSON into ``loaded``; return each file's bad lines (by path).

        A file whose lines DuckDB rejected but the line-by-line walk accepts (Docker and plain lines mixed,
        Docker lines split at 16 KB) is read again through ``salvage``, so no record is lost.
        """
        def one(log_file: LogFile, force: bool = False) -> bool:
            cur = self.con.cursor()
            try:
                with self.watch(cur, log_file, quiet=force):  # a second read of a file is not reported again
                    offset = self.rank[log_file] << FILE_SHIFT
                    if self.problems_only is not None:
                        return self._kept(cur, log_file, offset, force)
                    return self._into(cur, log_file, f"INSERT INTO loaded SELECT * REPLACE (seq + {offset} AS seq) "
                                                     "FROM ({select})", force)
            except (FileNotFoundError, duckdb.IOException):
                if log_file.path.exists():
                    raise
                self.vanished.append(str(log_file.path))  # rotated or compressed away since it was listed
                if self.progress is not None:
                    self.progress.reach(log_file, log_file.size)  # nothing more to read of it
                return False
            finally:
                cur.close()

        forced = {f for f, salvaged in zip(files, self.each(one, files), strict=True) if salvaged}
        counts = dict(self.con.execute(f"SELECT seq >> {FILE_SHIFT}, count(*) FILTER (WHERE NOT _ok) FROM loaded "
                                       "GROUP BY 1").fetchall())
        out, again = {}, []
        for f in files:
            if str(f.path) in self.vanished:
                continue
            rejected = 1 if f in forced else int(counts.get(self.rank[f], 0))
            exact, out[str(f.path)] = self.note_bad(f, rejected)
            if f not in forced and exact < rejected:
                self.con.execute(f"DELETE FROM loaded WHERE seq >> {FILE_SHIFT} = {self.rank[f]}")
                again.append(f)
        self.each(lambda f: one(f, force=True), again)
        return out

    def attach(self, entries: dict[LogFile, CacheEntry]) -> list[LogFile]:
        """Attach each cached database read-only as a source of records; return the files that failed."""
        failed: list[LogFile] = []
        attached: dict[str, LogFile] = {}
        for log_file, entry in entries.items():
            name = f"cached_{next(self.names_used)}"
            try:
                self.con.execute(f"ATTACH {_q(entry.database)} AS {name} (READ_ONLY)")
                attached[name] = log_file
            except duckdb.Error:  # damaged or foreign entry: parse the file again
                failed.append(log_file)
                self.con.execute(f"DETACH DATABASE IF EXISTS {name}")
        tables = self._tables(list(attached))
        for name, log_file in attached.items():
            if not all((name, table) in tables and columns <= tables[name, table]
                       for table, columns in self.needed.items()):
                failed.append(log_file)  # an entry of another version, or damaged: parse the file again
                self.con.execute(f"DETACH DATABASE IF EXISTS {name}")
                continue
            offset = self.rank[log_file] << FILE_SHIFT
            self.sources.append(f"SELECT {self.names}, seq + {offset} AS seq FROM {name}.{TABLE} WHERE _ok")
            self.summarised.append(name)
            self.problems.append(f"SELECT {PROBLEM_SELECT} FROM {name}.{PROBLEMS}")
        return failed

    @property
    def needed(self) -> dict[str, set[str]]:
        """Return the tables (and their columns) a cached database must hold to serve this read."""
        needed = {TABLE: {*self.columns, "_ok", "seq"}, PROBLEMS: set(ERRORS_COLUMNS)}
        return needed | ({table: set() for table in TABLES} if self.columns == ALL_COLUMNS else {})

    def _tables(self, names: list[str]) -> dict[tuple[str, str], set[str]]:
        """Return the columns of every table of the attached databases ``names``, from one catalog query."""
        if not names:
            return {}
        rows = self.con.execute("SELECT database_name, table_name, list(column_name) FROM duckdb_columns() "
                                "WHERE database_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL", [names]).fetchall()
        return {(database, table): set(columns) for database, table, columns in rows}

    def convert(self, log_file: LogFile, target: Path) -> dict[str, object]:
        """Parse one file straight into a new database at ``target``; return its bad-line accounting."""
        cur = self.con.cursor()
        name = "out_" + hashlib.sha1(str(target).encode()).hexdigest()[:12]
        cur.execute(f"ATTACH {_q(target)} AS {name}")
        try:
            with self.watch(cur, log_file):
                create = f"CREATE TABLE {name}.{TABLE} AS {{select}}"
                forced = self._into(cur, log_file, create)
                row = cur.execute(f"SELECT count(*) FILTER (WHERE NOT _ok) FROM {name}.{TABLE}").fetchone()
                rejected = 1 if forced else int(row[0]) if row else 0
                exact, listed = self.note_bad(log_file, rejected)
                if not forced and exact < rejected:  # records DuckDB could not see (see parse): read them again
                    self._into(cur, log_file, create, force=True)
                cur.execute(f"CREATE TABLE {name}.{PROBLEMS} AS SELECT {PROBLEM_SELECT} FROM {name}.{TABLE} "
                            f"WHERE _ok AND {PROBLEM_PREDICATE}")
                for table in TABLES:
                    cur.execute(f"CREATE TABLE {name}.{table} AS "
                                f"{summary_select(table, f'(SELECT * FROM {name}.{TABLE} WHERE _ok)')}")
        finally:
            cur.execute(f"DETACH {name}")
            cur.close()
        return {"bad": self.bad.get(str(log_file.path), 0), "listed": [m.to_dict() for m in listed]}


def load(specs: Iterable[str], filters: Filters | None = None, cache_dir: Path | None = None,
         settings: EngineSettings | None = None, progress: Progress | None = None,
         columns: Iterable[str] | None = None, problems_only: bool = False) -> Dataset:
    """Read the log files named by ``specs`` and return the filtered records as a Dataset.

    ``columns`` limits the flat columns read (default all); a partial read never writes the cache.
    ``problems_only`` (what error patterns need) keeps only the WARNING+ rows of the files it parses,
    plus the time range of all filtered records: the dataset then has ``problem_records`` and
    ``time_range`` but no ``records`` view.
    """
    files, notes = resolve_with_notes(specs)
    settings = settings or EngineSettings()
    wanted = normalise(columns)
    filters = filters or Filters()
    tmp = tempfile.TemporaryDirectory(prefix="log-analyzer-", dir=settings.temp_dir)
    con = connect(settings, tmp.name)
    loader = _Loader(con, tmp.name, wanted, files, settings, progress, filters.where() if problems_only else None)
    hits: dict[LogFile, CacheEntry] = {}
    if cache_dir is not None:
        hits = _from_cache(RecordCache(cache_dir), loader, files, write=wanted == ALL_COLUMNS)
    cached = sum(1 for entry in hits.values() if entry.meta.get("reused"))
    malformed_by_path = loader.parse([f for f in files if f not in hits])
    for log_file, entry in hits.items():
        malformed_by_path[str(log_file.path)] = loader.remember(log_file, entry.meta)
    malformed = sorted((m for listed in malformed_by_path.values() for m in listed), key=lambda m: (m.file, m.line))
    union = " UNION ALL ".join(loader.sources)
    con.execute(f"CREATE VIEW problem_records AS SELECT * FROM ({' UNION ALL '.join(loader.problems)}) "
                f"WHERE {filters.where()}")
    span = None
    if problems_only:  # ``loaded`` holds only WARNING+ rows: no records view, the time range from the scan
        row = con.execute(f"SELECT min(lo), max(hi) FROM (SELECT lo, hi FROM ranges UNION ALL "
                          f"SELECT min(ts), max(ts) FROM ({union}) WHERE {filters.where()})").fetchone()
        span = (row[0], row[1]) if row else (None, None)
    else:
        con.execute(f"CREATE VIEW all_records AS {union}")
        con.execute(f"CREATE VIEW records AS SELECT * FROM all_records WHERE {filters.where()}")
    summarised = wanted == ALL_COLUMNS and not problems_only
    if summarised:
        _summarise(con, loader.summarised, filters)
    notes += [f"skipped {path}: it vanished before it could be read (rotation?)" for path in loader.vanished]
    read = [f for f in files if str(f.path) not in loader.vanished]
    return Dataset(con, read, filters, sum(loader.bad.values()), malformed[:MAX_LISTED], dict(loader.bad),
                   cached, tmp, time_range=span, summarised=summarised, notes=notes)


def _summarise(con: duckdb.DuckDBPyConnection, stored: list[str], filters: Filters) -> None:
    """Create the summary relations (``summary.TABLES``) of the filtered records.

    A table's stored summaries (the cached files') plus the active rows' are reused when every filter
    is on one of its group keys (``summary.FILTERABLE``); otherwise (``--since``/``--until`` cut inside
    a minute, a service filter on a journey's parts, ...) it is computed from ``records``.
    """
    for table in TABLES:
        keys = FILTERABLE[table]
        if filters.since or filters.until or (filters.services and "service" not in keys) or (
                filters.levels and "level" not in keys):
            con.execute(f"CREATE TEMP TABLE {table} AS {summary_select(table, 'records')}")
            continue
        con.execute(f"CREATE TEMP TABLE active_{table} AS {summary_select(table, '(SELECT * FROM loaded WHERE _ok)')}")
        parts = [f"SELECT * FROM {name}.{table}" for name in stored] + [f"SELECT * FROM active_{table}"]
        kind = "TEMP TABLE" if table in ("counts", "latency") else "VIEW"  # the two read many times: copied once
        con.execute(f"CREATE {kind} {table} AS SELECT * FROM ({' UNION ALL '.join(parts)}) WHERE {filters.where()}")


def _from_cache(cache: RecordCache, loader: _Loader, files: list[LogFile], write: bool) -> dict[LogFile, CacheEntry]:
    """Attach the cached rotated files and (when ``write``) convert the others; return what is attached.

    Entries found in the cache carry ``reused`` in their metadata.
    """
    hits: dict[LogFile, CacheEntry] = {}
    for log_file in files:
        entry = cache.lookup(log_file) if log_file.immutable else None
        if entry is not None:
            hits[log_file] = CacheEntry(entry.database, {**entry.meta, "reused": True})
    for log_file in loader.attach(hits):
        del hits[log_file]
    if loader.progress is not None:
        for log_file in hits:
            loader.progress.reach(log_file, log_file.size)
    new = _store(cache, loader, [f for f in files if f not in hits and f.immutable]) if write else {}
    broken = set(loader.attach(new))
    return hits | {f: e for f, e in new.items() if f not in broken}


def _store(cache: RecordCache, loader: _Loader, files: list[LogFile]) -> dict[LogFile, CacheEntry]:
    """Convert each rotated file into its cache entry; return the new entries (none where the cache is unwritable)."""
    def one(log_file: LogFile) -> CacheEntry | None:
        try:
            return cache.store(log_file, lambda target: loader.convert(log_file, target))
        except (OSError, duckdb.IOException):  # read-only or full cache directory: read the file without it
            loader.bad.pop(str(log_file.path), None)
            return None

    return {f: entry for f, entry in zip(files, loader.each(one, files), strict=True) if entry is not None}
