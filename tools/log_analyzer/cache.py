"""A columnar copy of each immutable rotated file, so later reports never parse its JSON again.

Each entry is a small DuckDB database (a ``records`` table of the typed flat rows, its WARNING+ rows in
``problems``, and the mergeable summaries of ``summary.TABLES``) that later runs
attach read-only and query in place: no decoding into memory, no copy. Entries are keyed by path, size,
mtime, the cache format and the DuckDB version: a file that changed, however unlikely for a rotated
.gz, simply gets a new entry, and an entry that cannot be opened is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tools.log_analyzer.schema import CACHE_VERSION
from tools.log_analyzer.sources import LogFile

from ._files import private_dir

TABLE = "records"
PROBLEMS = "problems"  # the WARNING+ rows of ``records``, all that error patterns read


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Return ``$XDG_CACHE_HOME/log-analyzer`` (``~/.cache/log-analyzer`` by default)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "log-analyzer"


@dataclass(frozen=True)
class CacheEntry:
    """A cached file: its database of rows and what was learned reading it (counts, bad lines)."""

    database: Path
    meta: dict[str, object]


class RecordCache:
    """Directory of ``<key>.duckdb`` + ``<key>.json`` pairs, each published atomically (rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def key(self, log_file: LogFile) -> str:
        """Return the entry name for this exact version of the file."""
        raw = (f"{CACHE_VERSION}|{duckdb.__version__}|{log_file.path}|{log_file.size}|{log_file.mtime_ns}|"
               f"{log_file.docker}")
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def lookup(self, log_file: LogFile) -> CacheEntry | None:
        """Return the entry for the file, or None when it was never read (or its metadata is damaged)."""
        key = self.key(log_file)
        database, meta = self.directory / f"{key}.duckdb", self.directory / f"{key}.json"
        try:
            return CacheEntry(database, json.loads(meta.read_text())) if database.exists() else None
        except (OSError, ValueError):
            return None

    def store(self, log_file: LogFile, build: Callable[[Path], dict[str, object]]) -> CacheEntry:
        """Let ``build`` write the database to a temporary path, then publish it with its metadata."""
        private_dir(self.directory)
        key = self.key(log_file)
        database, meta_path = self.directory / f"{key}.duckdb", self.directory / f"{key}.json"
        tmp = self.directory / f".{key}.{os.getpid()}.duckdb.tmp"
        try:
            meta = build(tmp)
            os.replace(tmp, database)
        finally:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
        meta_tmp = meta_path.with_suffix(f".{os.getpid()}.tmp")
        meta_tmp.write_text(json.dumps({"path": str(log_file.path), **meta}))
        os.replace(meta_tmp, meta_path)
        return CacheEntry(database, meta)
