"""Bulk-load log files into the store, exactly once per line however often a load is repeated or resumed.

A file is known by its first line, which survives rotation and compression, so the active file, its rotated copy
and that copy's ``.gz`` are one file to the ledger (``load_ledger``). Lines go in batches through the landing
table; before a batch is sent its end is written to the ledger, and the insert carries a token naming the file and
the batch's line range, so a load killed at any point resumes by sending that very batch again, and ClickHouse
drops the copy if the first one had landed. Lines that are not our records are counted and listed as the file
reader does (``malformed.classify``), and never sent.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from tools.log_analyzer.malformed import MAX_LISTED, MalformedLine, classify, excerpt
from tools.log_analyzer.schema import LEVELS
from tools.log_analyzer.sources import LogFile, resolve_inputs

BATCH_LINES = 20_000
INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1, "async_insert": 0}
Progress = Callable[[int], None]


@dataclass
class LoadResult:
    """What one load did: per file, lines consumed and records sent; the lines that were not records."""

    files: int = 0
    skipped_files: int = 0
    records: int = 0
    lines: int = 0
    malformed_count: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "files_already_loaded": self.skipped_files, "lines": self.lines,
                "records_sent": self.records, "malformed_count": self.malformed_count,
                "malformed": [m.to_dict() for m in self.malformed]}


@dataclass(frozen=True)
class _Position:
    lines_done: int
    pending_end: int  # the end of a batch sent but not confirmed, else 0


class _CountingReader:
    """Wrap a binary file to tell how many compressed bytes have been read (for the progress bar)."""

    def __init__(self, handle: IO[bytes], progress: Progress | None) -> None:
        self._handle, self._progress = handle, progress

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self._progress is not None and data:
            self._progress(len(data))
        return data

    def readable(self) -> bool:
        return True


def _lines(log_file: LogFile, progress: Progress | None) -> Iterator[bytes]:
    """Yield the file's complete lines (a trailing line still being written is left for the next load)."""
    with open(log_file.path, "rb") as raw:
        reader: Any = _CountingReader(raw, progress)
        handle: Any = gzip.GzipFile(fileobj=reader) if log_file.compressed else reader
        pending = b""
        try:
            while chunk := handle.read(1 << 20):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                yield from lines
        except (OSError, EOFError):
            return  # a cut-off gzip stream: what was readable is loaded, the rest waits for a whole file


def file_identity(first_line: bytes) -> str:
    """Return the id of the file that starts with ``first_line`` (the same after rotation and gzip)."""
    return hashlib.sha256(first_line).hexdigest()[:32]


# the timestamps our library writes; a line whose fields all look right is a record without the slower full check
_OUR_TIMESTAMP = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z")


def _looks_like_ours(obj: object) -> bool:
    """Say cheaply whether a parsed line is certainly one of our records (the common case)."""
    if not isinstance(obj, dict) or obj.get("level") not in LEVELS:
        return False
    stamp = obj.get("timestamp")
    return (isinstance(stamp, str) and _OUR_TIMESTAMP.fullmatch(stamp) is not None
            and isinstance(obj.get("service"), str) and isinstance(obj.get("message"), str))


def _parse(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _record(line: bytes, docker: bool) -> tuple[bytes | None, str | None]:
    """Return (the record's JSON text, None) or (None, why the line is not one of our records)."""
    raw = line.rstrip(b"\r")
    obj = _parse(raw)
    if docker and isinstance(obj, dict) and "timestamp" not in obj and isinstance(obj.get("log"), str):
        raw = obj["log"].rstrip("\n").encode()  # Docker's json-file wrapper: the record is its "log"
        obj = _parse(raw)
    if _looks_like_ours(obj):
        return raw, None
    reason = classify(raw)  # the file reader's own verdict, with its reason
    return (raw, None) if reason is None else (None, reason)


class Loader:
    """Loads files into one store database; reusable across many ``load`` calls."""

    def __init__(self, client: Any, database: str, batch_lines: int = BATCH_LINES) -> None:
        if batch_lines < 1:
            raise ValueError(f"batch_lines={batch_lines} is not valid: expected >= 1")
        self._client, self._db, self._batch = client, database, batch_lines

    def load(self, specs: Sequence[str], progress: Progress | None = None) -> LoadResult:
        """Load every log file named by ``specs`` (files, directories, globs); return what was done."""
        result = LoadResult()
        for log_file in resolve_inputs(specs):
            self._load_file(log_file, result, progress)
        return result

    def _position(self, file_id: str) -> _Position:
        rows = self._client.query(f"SELECT LinesDone, PendingEnd FROM {self._db}.load_ledger FINAL "
                                  "WHERE FileId = {id:String}", parameters={"id": file_id}).result_rows
        return _Position(int(rows[0][0]), int(rows[0][1])) if rows else _Position(0, 0)

    def _record_position(self, file_id: str, path: str, lines_done: int, pending_end: int) -> None:
        self._client.insert(f"{self._db}.load_ledger", [[file_id, path, lines_done, pending_end]],
                            column_names=["FileId", "Path", "LinesDone", "PendingEnd"])

    def _load_file(self, log_file: LogFile, result: LoadResult, progress: Progress | None) -> None:
        lines = _lines(log_file, progress)
        first = next(lines, None)
        if first is None:
            return
        file_id = file_identity(first)
        done = self._position(file_id)
        start, end = done.lines_done, done.pending_end or None  # a batch in flight is resent exactly as it was
        batch: list[bytes] = []
        count = 0
        for count, line in enumerate(itertools.chain((first,), lines), start=1):
            if count <= start:
                continue
            self._take(line, log_file, count, batch, result)
            if count - start == self._batch or count == end:
                self._send(file_id, str(log_file.path), start, count, batch, result)
                batch, start, end = [], count, None
        if count > start:
            self._send(file_id, str(log_file.path), start, count, batch, result)
        result.files += 1
        result.lines += max(0, count - done.lines_done)
        result.skipped_files += count <= done.lines_done

    @staticmethod
    def _take(line: bytes, log_file: LogFile, number: int, batch: list[bytes], result: LoadResult) -> None:
        """Add the line's record to the batch, or count it as malformed (blank lines are neither)."""
        if not line.strip():
            return
        record, reason = _record(line, log_file.docker)
        if record is not None:
            batch.append(record)
            return
        result.malformed_count += 1
        if len(result.malformed) < MAX_LISTED:
            result.malformed.append(MalformedLine(str(log_file.path), number, reason or "", excerpt(line)))

    def _send(self, file_id: str, path: str, start: int, end: int, batch: list[bytes], result: LoadResult) -> None:
        """Send lines [start, end) of a file: ledger first, then the insert with its token, then the ledger."""
        self._record_position(file_id, path, start, end)
        if batch:
            settings = {**INSERT_SETTINGS, "insert_deduplication_token": f"{file_id}:{start}:{end}"}
            self._client.raw_insert(f"{self._db}.logs_ingest", fmt="JSONAsString",
                                    insert_block=b"\n".join(batch) + b"\n", settings=settings)
            result.records += len(batch)
        self._record_position(file_id, path, end, 0)

