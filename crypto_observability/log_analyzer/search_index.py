"""A small index per immutable rotated file, so ``search`` reads only the files that can hold a match.

Written the first time a search reads a rotated ``.gz`` file whole (a by-product of that read), under
the analyzer's cache directory (``<cache>/search/``, files 0640 in 0750 directories): the first and
last timestamp of the file (only when every line starts with its timestamp, as our records do) and the
sorted CRC-32s of its request ids. A lookup asks "can this file hold request id X?": no means skip it
(a CRC collision only costs a read). Users are not indexed: nearly every user shows up in every file of
a busy service (1,993 of 2,000 per file in the benchmark's logs), so such an index would skip nothing.
Keyed by path, size and mtime like the record cache: a file that changed gets a new entry.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from crypto_observability.log_analyzer._files import private_dir, private_file
from crypto_observability.log_analyzer.sources import ROTATED, LogFile

INDEX_VERSION = 1
_TS_PREFIX = b'{"timestamp":"'
_TS_LINE = re.compile(rb'\n\{"timestamp":"([^"]{20,40})"')
_RID = re.compile(rb'"request_id":\s*"([^"]*)"')
NAME_SLACK_S = 60.0  # rotation names bound a file's times; records may reach a file this late (queued writes)


def crc(value: str | bytes) -> int:
    """Return the CRC-32 the index stores for a request id or user hash."""
    return zlib.crc32(value.encode() if isinstance(value, str) else value)


@dataclass
class IndexBuilder:
    """Collects one file's index from the chunks of whole lines a search reads anyway."""

    first: bytes | None = None
    last: bytes | None = None
    exact_time: bool = True
    rids: set[int] = field(default_factory=set)

    def add(self, chunk: bytes, lines: int) -> None:
        """Take one chunk of ``lines`` whole lines, each ending in a newline."""
        stamps = _TS_LINE.findall(chunk, 0, len(chunk) - 1)
        if chunk.startswith(_TS_PREFIX):
            end = chunk.find(b'"', len(_TS_PREFIX))
            stamps.append(chunk[len(_TS_PREFIX):end])
        if len(stamps) != lines:
            self.exact_time = False  # a blank or foreign line: its time is unknown, so the bounds are too
        if stamps:
            low, high = min(stamps), max(stamps)
            self.first = low if self.first is None else min(self.first, low)
            self.last = high if self.last is None else max(self.last, high)
        self.rids.update(map(zlib.crc32, set(_RID.findall(chunk))))

    def finish(self, path: Path) -> FileIndex:
        """Return the index of the file just read."""
        exact = self.exact_time and self.first is not None
        return FileIndex(str(path), self.first.decode() if exact and self.first else None,
                         self.last.decode() if exact and self.last else None, array("I", sorted(self.rids)))


@dataclass
class FileIndex:
    """What one rotated file can hold: its time range and the CRCs of its request ids."""

    path: str
    first: str | None  # timestamp text; None when unknown
    last: str | None
    rids: array[int]

    def may_hold(self, request_ids: tuple[str, ...]) -> bool:
        """Say whether a record with one of these request ids may be in the file."""
        return any(_contains(self.rids, crc(value)) for value in request_ids)


def _contains(table: array[int], value: int) -> bool:
    at = bisect.bisect_left(table, value)
    return at < len(table) and table[at] == value


class IndexStore:
    """Directory of ``<key>.json`` + ``<key>.bin`` pairs, each pair published atomically (bin first)."""

    def __init__(self, cache_dir: Path) -> None:
        self.directory = Path(cache_dir) / "search"

    @staticmethod
    def key(log_file: LogFile) -> str:
        """Return the entry name for this exact version of the file."""
        raw = f"{INDEX_VERSION}|{log_file.path}|{log_file.size}|{log_file.mtime_ns}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def lookup(self, log_file: LogFile) -> FileIndex | None:
        """Return the file's index, or None when it has none (or a damaged one)."""
        key = self.key(log_file)
        try:
            meta = json.loads((self.directory / f"{key}.json").read_text())
            rids = array("I")
            rids.frombytes((self.directory / f"{key}.bin").read_bytes())
            if len(rids) != int(meta["rids"]):
                return None
            return FileIndex(meta["path"], meta["first"], meta["last"], rids)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, log_file: LogFile, index: FileIndex) -> None:
        """Publish the index; a read-only or full cache directory only means the next search reads the file."""
        key = self.key(log_file)
        try:
            private_dir(self.directory)
            blob = index.rids.tobytes()
            meta = {"path": index.path, "first": index.first, "last": index.last, "rids": len(index.rids)}
            for suffix, data in (("bin", blob), ("json", json.dumps(meta).encode())):
                tmp = self.directory / f".{key}.{os.getpid()}.{suffix}.tmp"
                tmp.write_bytes(data)
                private_file(tmp)
                os.replace(tmp, self.directory / f"{key}.{suffix}")
        except OSError:
            return


def _stamp_text(name: str) -> str | None:
    match = ROTATED.search(name)
    if not match:
        return None
    s = match.group(1)  # YYYYMMDDTHHMMSS.mmmZ
    return f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[9:11]}:{s[11:13]}:{s[13:15]}{s[15:]}"


def name_bounds(files: list[LogFile]) -> dict[LogFile, tuple[str | None, str | None]]:
    """Bound each file's times by the rotation names alone, ``NAME_SLACK_S`` wide on each side.

    A rotated file was renamed at the time in its name, after its last write; the file rotated before it
    (same service) tells roughly when its first write came. The active file starts after the last rotation.
    """
    from datetime import datetime, timedelta

    def shift(text: str | None, seconds: float) -> str | None:
        if text is None:
            return None
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(seconds=seconds)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    out: dict[LogFile, tuple[str | None, str | None]] = {}
    previous: dict[str, str | None] = {}
    for log_file in files:  # each service's files come oldest first, the active file last
        base = log_file.sort_key[0]
        stamp = _stamp_text(log_file.path.name)
        out[log_file] = (shift(previous.get(base), -NAME_SLACK_S), shift(stamp, NAME_SLACK_S))
        previous[base] = stamp
    return out
