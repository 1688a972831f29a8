"""A columnar copy of each immutable rotated file, so later reports never parse its JSON again.

Each entry is a small DuckDB database (a ``records`` table of the typed flat rows, its WARNING+ rows in
``problems``, and the mergeable summaries of ``summary.TABLES``) that later runs
attach read-only and query in place: no decoding into memory, no copy. Entries are keyed by path, size,
mtime, inode, ctime, a checksum of the file's first and last 64 KB, the cache format and the DuckDB
version: rotated files are immutable by contract, but a file rewritten with its size and mtime restored
still changes its ctime (which no user call can set back) and usually its sampled bytes, so it gets a new
entry. An entry that cannot be opened is rebuilt. The directory holds at most ``MAX_ENTRIES`` entries and
``MAX_BYTES``; past either, the least recently used are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crypto_observability.log_analyzer.schema import CACHE_VERSION
from crypto_observability.log_analyzer.sources import LogFile

from ._files import private_dir

MAX_ENTRIES = 2000
MAX_BYTES = 4 << 30
SAMPLE = 65536
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

    def __init__(self, directory: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_entries, self.max_bytes = max_entries, max_bytes

    def key(self, log_file: LogFile) -> str:
        """Return the entry name for this exact version of the file."""
        raw = (f"{CACHE_VERSION}|{duckdb.__version__}|{log_file.path}|{log_file.size}|{log_file.mtime_ns}|"
               f"{log_file.inode}|{log_file.ctime_ns}|{_sample(log_file.path, log_file.size)}|{log_file.docker}")
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def lookup(self, log_file: LogFile) -> CacheEntry | None:
        """Return the entry for the file, or None when it was never read (or its metadata is damaged)."""
        key = self.key(log_file)
        database, meta = self.directory / f"{key}.duckdb", self.directory / f"{key}.json"
        try:
            entry = CacheEntry(database, json.loads(meta.read_text())) if database.exists() else None
            if entry is not None:
                os.utime(meta)  # the entry's last use, for eviction
            return entry
        except (OSError, ValueError):
            return None

    def evict(self) -> int:
        """Remove the least recently used entries beyond the bounds; return how many were removed."""
        try:
            metas = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return 0
        sizes = {m: _size(m.with_suffix(".duckdb")) + _size(m) for m in metas}
        total, removed = sum(sizes.values()), 0
        for meta in metas:
            if len(metas) - removed <= self.max_entries and total <= self.max_bytes:
                break
            for path in (meta, meta.with_suffix(".duckdb")):
                path.unlink(missing_ok=True)
            total -= sizes[meta]
            removed += 1
        return removed

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
        self.evict()
        return CacheEntry(database, meta)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _sample(path: Path, size: int) -> str:
    """Return a checksum of the file's first and last ``SAMPLE`` bytes (cheap whatever its size)."""
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            sha.update(handle.read(SAMPLE))
            if size > SAMPLE:
                handle.seek(max(SAMPLE, size - SAMPLE))
                sha.update(handle.read(SAMPLE))
    except OSError:
        return "unreadable"
    return sha.hexdigest()[:16]
