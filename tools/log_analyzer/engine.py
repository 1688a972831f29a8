"""Load log files into DuckDB as one ``records`` view: cached Parquet for rotated files, JSON for the rest.

Memory is bounded by DuckDB's ``memory_limit`` (spilling to a temporary directory), never by the
size of the input. Bad lines are counted by DuckDB and located in Python only for files that have some.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from tools.log_analyzer.cache import CacheEntry, ParquetCache
from tools.log_analyzer.filters import Filters
from tools.log_analyzer.malformed import MAX_LISTED, MalformedLine, locate
from tools.log_analyzer.salvage import salvage
from tools.log_analyzer.schema import (
    ALL_COLUMNS,
    TIMESTAMP_FORMAT,
    columns_literal,
    flat_select,
    json_structure,
    normalise,
    record_sql_type,
    valid_predicate,
)
from tools.log_analyzer.sources import LogFile, resolve_inputs

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine DuckDB may use."""

    memory_limit: str = "1GB"
    threads: int = max(1, min(4, os.cpu_count() or 1))
    temp_dir: str | None = None


def _q(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _source(files: Sequence[Path], docker: bool, columns: tuple[str, ...]) -> str:
    """Return a FROM clause typing each line as a record (NULLs for lines that are not)."""
    paths = "[" + ", ".join(_q(p) for p in files) + "]"
    if docker:
        structure = _q(json_structure(columns))
        return (f"(SELECT filename, CASE WHEN json_valid(log) THEN json_transform(log, {structure}) END AS r "
                f"FROM read_ndjson({paths}, columns={{'log': 'VARCHAR'}}, ignore_errors=true, filename=true)) AS d")
    return (f"read_ndjson({paths}, columns={columns_literal(columns)}, timestampformat='{TIMESTAMP_FORMAT}', "
            f"ignore_errors=true, filename=true) AS r")


def _typed_select(files: Sequence[Path], docker: bool, columns: tuple[str, ...]) -> str:
    return (f"SELECT filename, {flat_select('r', columns)}, {valid_predicate('r')} AS _ok "
            f"FROM {_source(files, docker, columns)}")


def _empty_select(columns: tuple[str, ...]) -> str:
    typed = f"CAST(NULL AS {record_sql_type(columns)})"
    return (f"SELECT NULL::VARCHAR AS filename, {flat_select('r', columns)}, FALSE AS _ok "
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

    def close(self) -> None:
        """Release DuckDB and the temporary spill directory."""
        self.con.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def connect(settings: EngineSettings, temp_dir: str) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB that spills to ``temp_dir`` beyond ``memory_limit``."""
    return duckdb.connect(config={"memory_limit": settings.memory_limit, "threads": settings.threads,
                                  "temp_directory": temp_dir, "preserve_insertion_order": False})


class _Loader:
    """Parses the JSON of every file that needs it in one parallel read into table ``loaded``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tmp: str, columns: tuple[str, ...],
                 progress: Progress | None) -> None:
        self.con, self.tmp, self.columns, self.progress = con, tmp, columns, progress
        self.bad: dict[str, int] = {}
        self.forced: list[LogFile] = []
        con.execute(f"CREATE TABLE loaded AS {_empty_select(columns)}")

    def note_bad(self, log_file: LogFile, count: int) -> list[MalformedLine]:
        """Record that ``log_file`` has bad lines; walk it to say which."""
        if count <= 0:
            return []
        exact, listed = locate(log_file.path, log_file.compressed)
        self.bad[str(log_file.path)] = exact or count
        return listed

    def parse(self, files: list[LogFile]) -> dict[str, list[MalformedLine]]:
        """Read the files' JSON into ``loaded``; return each file's bad lines (by path)."""
        for docker in (False, True):
            group = [f for f in files if f.docker == docker]
            if group:
                self._insert(group, docker)
        counts = dict(self.con.execute("SELECT filename, count(*) FILTER (WHERE NOT _ok) FROM loaded "
                                       "WHERE filename IS NOT NULL GROUP BY 1").fetchall())
        counts.update({str(f.path): 1 for f in self.forced})
        return {str(f.path): self.note_bad(f, int(counts.get(str(f.path), 0))) for f in files}

    def _insert(self, group: list[LogFile], docker: bool) -> None:
        try:
            self.con.execute(f"INSERT INTO loaded {_typed_select([f.path for f in group], docker, self.columns)}")
        except duckdb.Error:
            for log_file in group:  # one broken file must not hide the others
                try:
                    self.con.execute(f"INSERT INTO loaded {_typed_select([log_file.path], docker, self.columns)}")
                except duckdb.Error:
                    self.forced.append(log_file)
                    clean = salvage(log_file, Path(self.tmp))
                    self.con.execute(f"INSERT INTO loaded SELECT * REPLACE ({_q(log_file.path)} AS filename) "
                                     f"FROM ({_typed_select([clean], False, self.columns)})")
        if self.progress:
            self.progress(sum(f.size for f in group))

    def add_parquet(self, parquets: list[Path]) -> None:
        """Append cached rows (only the wanted columns) to ``loaded``."""
        listing = "[" + ", ".join(_q(p) for p in parquets) + "]"
        names = ", ".join(f'"{c}"' for c in self.columns)
        self.con.execute(f"INSERT INTO loaded SELECT NULL AS filename, {names}, _ok FROM read_parquet({listing})")

    def write_cache(self, log_file: LogFile, target: Path) -> None:
        """Write one parsed file's rows from ``loaded`` to Parquet."""
        cur = self.con.cursor()
        try:
            cur.execute(f"COPY (SELECT * EXCLUDE (filename) FROM loaded WHERE filename = {_q(log_file.path)}) "
                        f"TO {_q(target)} (FORMAT parquet, COMPRESSION snappy)")
        finally:
            cur.close()


def load(specs: Iterable[str], filters: Filters | None = None, cache_dir: Path | None = None,
         settings: EngineSettings | None = None, progress: Progress | None = None,
         columns: Iterable[str] | None = None) -> Dataset:
    """Read the log files named by ``specs`` and return the filtered records as a Dataset.

    ``columns`` limits the flat columns read (default all); a partial read never writes the cache.
    """
    files = resolve_inputs(specs)
    settings = settings or EngineSettings()
    wanted = normalise(columns)
    tmp = tempfile.TemporaryDirectory(prefix="log-analyzer-", dir=settings.temp_dir)
    con = connect(settings, tmp.name)
    loader = _Loader(con, tmp.name, wanted, progress)
    cache = ParquetCache(cache_dir) if cache_dir is not None else None
    hits: dict[LogFile, CacheEntry] = {}
    if cache is not None:
        for log_file in files:
            entry = cache.lookup(log_file) if log_file.immutable else None
            if entry is not None:
                hits[log_file] = entry
    to_parse = [f for f in files if f not in hits]
    malformed_by_path = loader.parse(to_parse)
    if hits:
        loader.add_parquet(sorted(entry.parquet for entry in hits.values()))
        if progress:
            progress(sum(f.size for f in hits))
    for log_file, entry in hits.items():
        if int(str(entry.meta.get("bad", 0))):
            loader.bad[str(log_file.path)] = int(str(entry.meta["bad"]))
        listed = entry.meta.get("listed", [])
        malformed_by_path[str(log_file.path)] = [MalformedLine(**m) for m in listed] if isinstance(listed, list) else []
    if cache is not None and wanted == ALL_COLUMNS:
        _store(cache, loader, [f for f in to_parse if f.immutable], malformed_by_path, settings)
    malformed = sorted((m for listed in malformed_by_path.values() for m in listed), key=lambda m: (m.file, m.line))
    con.execute("CREATE VIEW all_records AS SELECT * EXCLUDE (filename, _ok) FROM loaded WHERE _ok")
    filters = filters or Filters()
    con.execute(f"CREATE VIEW records AS SELECT * FROM all_records WHERE {filters.where()}")
    return Dataset(con, files, filters, sum(loader.bad.values()), malformed[:MAX_LISTED], dict(loader.bad),
                   len(hits), tmp)


def _store(cache: ParquetCache, loader: _Loader, new: list[LogFile], malformed: dict[str, list[MalformedLine]],
           settings: EngineSettings) -> None:
    """Publish a cache entry for each newly parsed immutable file (in parallel)."""
    def one(log_file: LogFile) -> None:
        meta = {"bad": loader.bad.get(str(log_file.path), 0),
                "listed": [m.to_dict() for m in malformed.get(str(log_file.path), [])]}

        def build(target: Path) -> dict[str, object]:
            loader.write_cache(log_file, target)
            return meta
        cache.store(log_file, build)

    with ThreadPoolExecutor(max_workers=max(1, min(settings.threads, 2))) as pool:
        list(pool.map(one, new))
