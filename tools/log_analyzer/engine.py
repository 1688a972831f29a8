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

from tools.log_analyzer.cache import ParquetCache
from tools.log_analyzer.filters import Filters
from tools.log_analyzer.malformed import MAX_LISTED, MalformedLine, locate
from tools.log_analyzer.salvage import salvage
from tools.log_analyzer.schema import (
    RECORD_TYPES,
    TIMESTAMP_FORMAT,
    _sql_type,
    columns_literal,
    flat_select,
    json_structure,
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


def _source(files: Sequence[Path], docker: bool) -> str:
    """Return a FROM clause typing each line as a record (NULLs for lines that are not)."""
    paths = "[" + ", ".join(_q(p) for p in files) + "]"
    if docker:
        structure = _q(json_structure())
        return (f"(SELECT filename, CASE WHEN json_valid(log) THEN json_transform(log, {structure}) END AS r "
                f"FROM read_ndjson({paths}, columns={{'log': 'VARCHAR'}}, ignore_errors=true, filename=true)) AS d")
    return (f"read_ndjson({paths}, columns={columns_literal()}, timestampformat='{TIMESTAMP_FORMAT}', "
            f"ignore_errors=true, filename=true) AS r")


def _typed_select(files: Sequence[Path], docker: bool) -> str:
    return f"SELECT filename, {flat_select('r')}, {valid_predicate('r')} AS _ok FROM {_source(files, docker)}"


def _empty_select() -> str:
    typed = f"CAST(NULL AS {_sql_type(RECORD_TYPES)})"
    return f"SELECT NULL::VARCHAR AS filename, {flat_select('r')}, FALSE AS _ok FROM (SELECT {typed} AS r) WHERE FALSE"


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
    """Reads each file once, records bad-line accounting, and builds the ``records`` view."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tmp: str, progress: Progress | None) -> None:
        self.con, self.tmp, self.progress = con, tmp, progress
        self.bad: dict[str, int] = {}
        self.parquets: list[Path] = []
        self.live_parts: list[str] = []
        self.forced: list[LogFile] = []

    def note_bad(self, log_file: LogFile, count: int) -> list[MalformedLine]:
        if count <= 0:
            return []
        exact, listed = locate(log_file.path, log_file.compressed)
        self.bad[str(log_file.path)] = exact or count
        return listed

    def convert(self, log_file: LogFile, target: Path) -> dict[str, object]:
        """Write one file's typed rows to Parquet; return its counts and bad lines."""
        cur = self.con.cursor()
        salvaged = False
        try:
            query = _typed_select([log_file.path], log_file.docker)
            cur.execute(f"COPY ({query}) TO {_q(target)} (FORMAT parquet, COMPRESSION snappy)")
        except duckdb.Error:
            salvaged = True
            clean = salvage(log_file, Path(self.tmp))
            cur.execute(f"COPY ({_typed_select([clean], False)}) TO {_q(target)} (FORMAT parquet)")
        bad = cur.execute(f"SELECT count(*) FILTER (WHERE NOT _ok) FROM read_parquet({_q(target)})").fetchone()
        cur.close()
        listed = self.note_bad(log_file, 1 if salvaged else int(bad[0]) if bad else 0)
        return {"bad": self.bad.get(str(log_file.path), 0), "listed": [m.to_dict() for m in listed]}

    def load_live(self, files: list[LogFile]) -> list[MalformedLine]:
        """Read the files that may still grow (or everything, without a cache) into table ``live``."""
        listed: list[MalformedLine] = []
        self.con.execute(f"CREATE TABLE live AS {_empty_select()}")
        for docker in (False, True):
            group = [f for f in files if f.docker == docker]
            if group:
                self._insert(group, docker)
        counts = dict(self.con.execute("SELECT filename, count(*) FROM live WHERE NOT _ok GROUP BY 1").fetchall())
        counts.update({str(f.path): 1 for f in self.forced})
        by_path = {str(f.path): f for f in files}
        for name, count in counts.items():
            if name in by_path:
                listed += self.note_bad(by_path[name], int(count))
        self.live_parts.append("SELECT * EXCLUDE (filename) FROM live")
        return listed

    def _insert(self, group: list[LogFile], docker: bool) -> None:
        try:
            self.con.execute(f"INSERT INTO live {_typed_select([f.path for f in group], docker)}")
        except duckdb.Error:
            for log_file in group:  # one broken file must not hide the others
                try:
                    self.con.execute(f"INSERT INTO live {_typed_select([log_file.path], docker)}")
                except duckdb.Error:
                    self.forced.append(log_file)
                    clean = salvage(log_file, Path(self.tmp))
                    self.con.execute(f"INSERT INTO live SELECT * REPLACE ({_q(log_file.path)} AS filename) "
                                     f"FROM ({_typed_select([clean], False)})")
        if self.progress:
            self.progress(sum(f.size for f in group))


def load(specs: Iterable[str], filters: Filters | None = None, cache_dir: Path | None = None,
         settings: EngineSettings | None = None, progress: Progress | None = None) -> Dataset:
    """Read the log files named by ``specs`` and return the filtered records as a Dataset."""
    files = resolve_inputs(specs)
    settings = settings or EngineSettings()
    tmp = tempfile.TemporaryDirectory(prefix="log-analyzer-", dir=settings.temp_dir)
    con = connect(settings, tmp.name)
    loader = _Loader(con, tmp.name, progress)
    cache = ParquetCache(cache_dir) if cache_dir is not None else None
    malformed: list[MalformedLine] = []
    cached = [f for f in files if cache and f.immutable]
    cached_hits = 0

    def one(log_file: LogFile) -> list[MalformedLine]:
        nonlocal cached_hits
        assert cache is not None
        entry = cache.lookup(log_file)
        if entry is None:
            entry = cache.store(log_file, lambda target: loader.convert(log_file, target))
        else:
            cached_hits += 1
            if int(str(entry.meta.get("bad", 0))):
                loader.bad[str(log_file.path)] = int(str(entry.meta["bad"]))
        loader.parquets.append(entry.parquet)
        if progress:
            progress(log_file.size)
        listed = entry.meta.get("listed", [])
        return [MalformedLine(**m) for m in listed] if isinstance(listed, list) else []

    with ThreadPoolExecutor(max_workers=max(1, min(settings.threads, 2))) as pool:
        for listed in pool.map(one, cached):
            malformed += listed
    malformed += loader.load_live([f for f in files if f not in cached])
    parts = list(loader.live_parts)
    if loader.parquets:
        parquet_list = "[" + ", ".join(_q(p) for p in sorted(loader.parquets)) + "]"
        parts.append(f"SELECT * EXCLUDE (filename) FROM read_parquet({parquet_list})")
    con.execute(f"CREATE VIEW all_records AS SELECT * EXCLUDE (_ok) FROM ({' UNION ALL '.join(parts)}) WHERE _ok")
    filters = filters or Filters()
    con.execute(f"CREATE VIEW records AS SELECT * FROM all_records WHERE {filters.where()}")
    malformed.sort(key=lambda m: (m.file, m.line))
    return Dataset(con, files, filters, sum(loader.bad.values()), malformed[:MAX_LISTED], dict(loader.bad),
                   cached_hits, tmp)
