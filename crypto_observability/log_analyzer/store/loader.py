"""Bulk-load log files into the store, exactly once per line however often a load is repeated or resumed.

A file is known by its start (its first line and first 4 KiB, decompressed), which survives rotation and
compression, so the active file, its rotated copy and that copy's ``.gz`` are one file to the ledger
(``load_ledger``), while two files that merely share a first line are two. A file that can no longer grow (a rotated
file, a ``.gz``) ends with its unterminated last line; the active file's is held until finished. A ``.gz`` cut short
or corrupt gives every line before the damage and is listed unreadable. Lines go in batches through the landing
table; a batch may span several files (an insert has a fixed cost, so few large ones load fastest). Before a batch
is sent, each of its files' ranges is written to the ledger with the batch's token, and the insert carries that
token, so a load killed at any point resumes by sending that very batch again, and ClickHouse drops the copy if the
first one had landed. Lines that are not our records are counted and listed as the file reader does
(``malformed.classify``), and never sent. Files are read and checked on a second thread while the previous batch is
inserted (the engine releases the GIL), so reading and inserting overlap.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from typing import Any

import orjson

from crypto_observability.log_analyzer.malformed import MAX_LISTED, MalformedLine, classify, excerpt
from crypto_observability.log_analyzer.schema import LEVELS
from crypto_observability.log_analyzer.sources import ROTATED, LogFile, resolve_inputs

BATCH_LINES = 50_000
INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1, "async_insert": 0}
LEDGER_COLUMNS = ("FileId", "Path", "LinesDone", "PendingEnd", "Batch")
LEDGER_TYPES = ("String", "String", "UInt64", "UInt64", "String")
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
    held: list[str] = field(default_factory=list)  # files whose interrupted batch needs a file not given now

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "files_already_loaded": self.skipped_files, "lines": self.lines,
                "records_sent": self.records, "malformed_count": self.malformed_count,
                "malformed": [m.to_dict() for m in self.malformed], "files_held": self.held}


@dataclass(frozen=True)
class _Position:
    lines_done: int
    pending_end: int  # the end of a batch sent but not confirmed, else 0
    batch: str = ""  # that batch's token ('' in a ledger written before batches spanned files)
    path: str = ""  # the file's path when last recorded


@dataclass(frozen=True)
class _Segment:
    """Lines (start, end] of one file, counted from 1: the part of a batch that file gives."""

    file_id: str
    path: str
    start: int
    end: int


@dataclass
class _Batch:
    """What one insert sends: the files' ranges it covers, their records, and the token naming them."""

    segments: list[_Segment] = field(default_factory=list)
    records: list[bytes] = field(default_factory=list)
    token: str = ""
    moves: list[tuple[str, str, int, int, str]] = field(default_factory=list)  # ids retired, with these ranges

    def lines(self) -> int:
        """Lines of files the batch covers (records, malformed and blank lines alike)."""
        return sum(s.end - s.start for s in self.segments)


def batch_token(segments: Sequence[_Segment]) -> str:
    """Return the insert token naming a batch: its files and line ranges (one file: as ledger v3 named it)."""
    names = [f"{s.file_id}:{s.start}:{s.end}" for s in segments]
    return names[0] if len(names) == 1 else "batch:" + hashlib.sha256(";".join(names).encode()).hexdigest()[:32]


READ_BYTES = 1 << 20  # raw bytes read at a time (a .gz: compressed bytes, so output stays a few MiB)
GZ_READ_BYTES = 1 << 15  # fed to zlib a piece at a time: an error loses only the last piece's output
MOVED = "moved to "  # the Path of a previous version's ledger row once its file has its content id
IDENTITY_BYTES = 4096  # a file is known by this much of its (decompressed) start, or all it holds if less
TRUNCATED = "Compressed file ended before the end-of-stream marker was reached"  # as gzip says it
_ID = re.compile(r"b(\d+)-[0-9a-f]{32}")


class _Unreadable(Exception):
    """A file could not be read (to its end): raised after every line that could be read was yielded."""


def _raw_blocks(log_file: LogFile, progress: Progress | None, size: int) -> Iterator[bytes]:
    """Yield the file's bytes as stored, telling ``progress`` how many were read."""
    try:
        with open(log_file.path, "rb") as raw:
            while block := raw.read(size):
                if progress is not None:
                    progress(len(block))
                yield block
    except OSError as exc:
        raise _Unreadable(str(exc)) from exc


def _gunzip(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Yield a gzip stream's data (every member), all of it up to a cut or a corrupt part, then raise there."""
    member: Any = None  # the member being decompressed; None between members
    started = False
    try:
        for block in blocks:
            while block:
                if member is None:
                    block = block.lstrip(b"\0") if started else block  # zeros may pad between members
                    if not block:
                        break
                    member = zlib.decompressobj(16 + zlib.MAX_WBITS)
                if data := member.decompress(block):
                    yield data
                if not member.eof:
                    break
                block, member, started = member.unused_data, None, True
    except zlib.error as exc:
        raise _Unreadable(str(exc)) from exc
    if member is not None:
        raise _Unreadable(TRUNCATED)


def _data(log_file: LogFile, progress: Progress | None, small: bool = False) -> Iterator[bytes]:
    """Yield the file's content (decompressed); raise ``_Unreadable`` where it stops being readable."""
    if log_file.compressed:
        return _gunzip(_raw_blocks(log_file, progress, IDENTITY_BYTES if small else GZ_READ_BYTES))
    return _raw_blocks(log_file, progress, IDENTITY_BYTES if small else READ_BYTES)


def can_grow(log_file: LogFile) -> bool:
    """Say whether the file may still be written to: the active file, not a rotated one (plain or .gz)."""
    return not log_file.compressed and ROTATED.search(log_file.path.name) is None


def _lines(log_file: LogFile, progress: Progress | None) -> Generator[bytes, None, None]:
    """Yield the file's lines; raise ``_Unreadable`` after the last one readable when the file is cut or corrupt.

    An unterminated last line is a line of a file that cannot grow (a rotated file, a .gz); in the active file it
    is still being written and is left for the next load. The part of a line after which a .gz is cut is not a
    line (the file is reported unreadable).
    """
    pending = b""
    for chunk in _data(log_file, progress):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending and not can_grow(log_file):
        yield pending


def _head(log_file: LogFile) -> bytes:
    """Return the file's first ``IDENTITY_BYTES`` bytes (decompressed), or all that can be read if fewer."""
    head = b""
    with closing(_data(log_file, None, small=True)) as data, suppress(_Unreadable):
        for chunk in data:
            head += chunk
            if len(head) >= IDENTITY_BYTES:
                break
    return head[:IDENTITY_BYTES]


def file_identity(first_line: bytes, head: bytes) -> str:
    """Return the id of a file by its start: its first line and its first ``IDENTITY_BYTES`` bytes (or all of it).

    Content, not name, so the active file, its rotated copy and that copy's .gz (compared decompressed) are one
    file; two files that merely share a first line (a banner, a blank line) are two. The id tells how many bytes
    it covers (``b<length>-<hash>``), so a file first loaded while shorter is still found once it has grown.
    """
    head = head[:IDENTITY_BYTES]
    digest = hashlib.sha256(len(first_line).to_bytes(8, "big") + first_line + head).hexdigest()[:32]
    return f"b{len(head)}-{digest}"


def legacy_identity(first_line: bytes) -> str:
    """Return the id a ledger written before ``file_identity`` covered content gave a file: its first line's."""
    return hashlib.sha256(first_line).hexdigest()[:32]


def _base(path: str) -> str:
    """Return a log file's service name: the same for the active file and its rotated copies."""
    name = path.rsplit("/", 1)[-1]
    match = ROTATED.search(name)
    return name[: match.start()] if match else name.removesuffix(".log")


class _Identities:
    """Tells which file of the ledger (or of this load) a file is, else gives it a new id."""

    def __init__(self, ledger: dict[str, _Position]) -> None:
        self._by_length: dict[int, set[str]] = {}
        self._legacy: dict[str, str] = {}  # legacy id -> the base name of the file it was recorded for
        for file_id, position in ledger.items():
            if not position.path.startswith(MOVED):
                self.add(file_id, position.path)

    def add(self, file_id: str, path: str) -> None:
        """Know ``file_id`` from now on (the file at ``path``)."""
        if match := _ID.fullmatch(file_id):
            self._by_length.setdefault(int(match.group(1)), set()).add(file_id)
        else:
            self._legacy[file_id] = _base(path)

    def of(self, log_file: LogFile, first_line: bytes) -> tuple[str, str]:
        """Return (the file's id, the id of all it holds now, up to ``IDENTITY_BYTES``).

        The first is a known id whose start the file has (the longest), else the second, then remembered.
        """
        head = _head(log_file)
        now = file_identity(first_line, head)
        for length in sorted((n for n in self._by_length if n <= len(head)), reverse=True):
            file_id = file_identity(first_line, head[:length])
            if file_id in self._by_length[length]:
                return file_id, now
        legacy = legacy_identity(first_line)
        if self._legacy.get(legacy) == _base(str(log_file.path)):
            return legacy, now  # a previous version's row, in a batch it left pending: same first line and name
        self.add(now, str(log_file.path))
        return now, now


# the timestamps our library writes; a line whose fields all look right is a record without the slower full check
_STORABLE_YEARS = ("1900", "2262")  # DateTime64(9) spans 1900-01-01 to 2262-04-11: a record outside is refused
_OUR_TIMESTAMP = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z")


def _looks_like_ours(obj: object) -> bool:
    """Say cheaply whether a parsed line is certainly one of our records (the common case)."""
    if not isinstance(obj, dict) or obj.get("level") not in LEVELS:
        return False
    stamp = obj.get("timestamp")
    service = obj.get("service")
    return (isinstance(stamp, str) and _OUR_TIMESTAMP.fullmatch(stamp) is not None
            and _STORABLE_YEARS[0] <= stamp[:4] < _STORABLE_YEARS[1]
            and isinstance(service, str) and service != "" and isinstance(obj.get("message"), str))


def _beyond_the_store(obj: object) -> str | None:
    """Why the store would refuse a record the file reader accepts (its time outside DateTime64(9)), else None."""
    stamp = obj.get("timestamp") if isinstance(obj, dict) else None
    if isinstance(stamp, str) and not _STORABLE_YEARS[0] <= stamp[:4] < _STORABLE_YEARS[1]:
        return f"timestamp {stamp[:40]!r} outside what the store holds (years {_STORABLE_YEARS[0]} to 2261)"
    return None


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
    reason = classify(raw) or _beyond_the_store(obj)  # the file reader's own verdict, then the store's limits
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
        files = resolve_inputs(specs)
        spans_files = self._ledger_has_batches()
        ledger = self._adopt_first_line_ids(files, self._ledger(spans_files), spans_files)
        batches = _Reader(files, ledger, self._batch, spans_files, result, progress).batches()
        previous: list[_Segment] = []
        for batch in _in_background(batches):
            self._send(batch, previous, result, spans_files)
            previous = batch.segments
        if previous:
            self._write_ledger([_done_row(s) for s in previous], spans_files)
        return result

    def _ledger_has_batches(self) -> bool:
        """Say whether the ledger keeps batch tokens (schema v5): else each batch stays within one file."""
        return bool(self._client.query("SELECT count() FROM system.columns WHERE database = {db:String} "
                                       "AND table = 'load_ledger' AND name = 'Batch'",
                                       parameters={"db": self._db}).result_rows[0][0])

    def _ledger(self, spans_files: bool) -> dict[str, _Position]:
        """Return where every file's load has reached, read once."""
        batch = "Batch" if spans_files else "''"
        rows = self._client.query(f"SELECT FileId, LinesDone, PendingEnd, {batch}, Path "
                                  f"FROM {self._db}.load_ledger FINAL").result_rows
        return {str(r[0]): _Position(int(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in rows}

    def _adopt_first_line_ids(self, files: list[LogFile], ledger: dict[str, _Position],
                              spans_files: bool) -> dict[str, _Position]:
        """Move each file a previous version's ledger knows by its first line to its content id, once.

        That ledger row is claimed by the first file given (oldest first) with its first line and its service's
        file name; the row is then marked moved, so a later file with the same first line is a new file.
        """
        legacy = {file_id for file_id, position in ledger.items() if _ID.fullmatch(file_id) is None
                  and not position.pending_end and not position.path.startswith(MOVED)}
        if not legacy:
            return ledger
        ledger = dict(ledger)
        identities = _Identities({k: v for k, v in ledger.items() if _ID.fullmatch(k) is not None})
        rows: list[tuple[str, str, int, int, str]] = []
        for log_file in files:
            with closing(_lines(log_file, None)) as lines:
                try:
                    first = next(lines, None)
                except _Unreadable:
                    first = None
            old = legacy_identity(first) if first is not None else ""
            if first is None or old not in legacy or _base(ledger[old].path) != _base(str(log_file.path)):
                continue
            legacy.discard(old)
            new = identities.of(log_file, first)[0]
            if new in ledger:
                continue
            done = ledger[old].lines_done
            ledger[new] = _Position(done, 0, "", str(log_file.path))
            ledger[old] = _Position(done, 0, "", MOVED + new)
            rows += [(new, str(log_file.path), done, 0, ""), (old, MOVED + new, done, 0, "")]
        if rows:
            self._write_ledger(rows, spans_files)
        return ledger

    def _write_ledger(self, rows: list[tuple[str, str, int, int, str]], spans_files: bool) -> None:
        """Record files' positions (one insert, so a batch's ranges land together or not at all)."""
        width = len(LEDGER_COLUMNS) if spans_files else len(LEDGER_COLUMNS) - 1
        self._client.insert(f"{self._db}.load_ledger", [row[:width] for row in rows],
                            column_names=LEDGER_COLUMNS[:width], column_type_names=LEDGER_TYPES[:width])

    def _insert(self, token: str, records: list[bytes]) -> None:
        """Post the records to the landing table; the token makes a resent batch a no-op."""
        settings = {**INSERT_SETTINGS, "insert_deduplication_token": token}
        self._client.raw_insert(f"{self._db}.logs_ingest", fmt="JSONAsString",
                                insert_block=b"\n".join(records) + b"\n", settings=settings)

    def _send(self, batch: _Batch, previous: list[_Segment], result: LoadResult, spans_files: bool) -> None:
        """Send a batch: its ranges to the ledger (confirming the previous batch's), then the insert."""
        continuing = {s.file_id for s in batch.segments}
        rows = [_done_row(s) for s in previous if s.file_id not in continuing]
        self._write_ledger(rows + batch.moves + [(s.file_id, s.path, s.start, s.end, batch.token)
                                                 for s in batch.segments], spans_files)
        if batch.records:
            self._insert(batch.token, batch.records)
            result.records += len(batch.records)


def _done_row(segment: _Segment) -> tuple[str, str, int, int, str]:
    """The ledger row saying a segment's batch has landed: its file is loaded up to the segment's end."""
    return segment.file_id, segment.path, segment.end, 0, ""


class _Reader:
    """Turns files into batches: first any batch a killed load left pending, then every line not yet loaded."""

    def __init__(self, files: list[LogFile], ledger: dict[str, _Position], batch_lines: int, spans_files: bool,
                 result: LoadResult, progress: Progress | None) -> None:
        self._files, self._ledger, self._size, self._spans = files, ledger, batch_lines, spans_files
        self._result, self._progress = result, progress
        self._resume_at = {fid: p.pending_end or p.lines_done for fid, p in ledger.items()}
        self._counted = {fid: p.lines_done for fid, p in ledger.items()}  # lines this load reports up to
        self._held: set[str] = set()
        self._identities = _Identities(ledger)

    def batches(self) -> Iterator[_Batch]:
        """Yield the batches to send, in order; a full one as soon as it is full."""
        yield from self._pending()
        batch = _Batch()
        for log_file in self._files:
            lines = _lines(log_file, self._progress)
            try:
                first = next(lines, None)
            except _Unreadable as exc:
                _unreadable(log_file, exc, self._result)
                continue
            if first is None:
                continue
            file_id, now = self._identities.of(log_file, first)
            moved = self._rekey(file_id, now, str(log_file.path))
            file_id = now if moved else file_id
            if file_id in self._held:
                self._result.held.append(str(log_file.path))
                lines.close()
                continue
            if any(s.file_id == file_id for s in batch.segments):  # a second copy of a file: after the first
                yield self._sealed(batch)
                batch = _Batch()
            batch = yield from self._read_file(log_file, file_id, _chain(first, lines), batch, moved)
            if not self._spans and batch.segments:
                yield self._sealed(batch)
                batch = _Batch()
        if batch.segments:
            yield self._sealed(batch)

    def _rekey(self, known: str, now: str, path: str) -> str:
        """Say which id a file known by a shorter start than it now has moves from ('' if it stays).

        A file first loaded while shorter than ``IDENTITY_BYTES`` takes the id of what it holds now, so a short id
        only ever covers lines within its bytes: another file beginning with those bytes has those very lines.
        """
        position = self._ledger.get(known)  # an id given in this load stays for it (its ranges are not written yet)
        if known == now or _ID.fullmatch(known) is None or position is None or position.pending_end:
            return ""
        self._resume_at[now] = self._resume_at.get(known, 0)
        self._counted[now] = self._counted.get(known, 0)
        self._identities.add(now, path)
        return known

    def _read_file(self, log_file: LogFile, file_id: str, lines: Iterator[bytes],
                   batch: _Batch, moved: str = "") -> Generator[_Batch, None, _Batch]:
        """Add the file's new lines to ``batch``, yielding each batch filled; return the one left open.

        ``moved``: the id the file was known by, marked moved to ``file_id`` with the file's first new lines.
        """
        move = [(moved, MOVED + file_id, self._counted.get(file_id, 0), 0, "")] if moved else []
        loaded = self._counted.get(file_id, 0)
        start = self._resume_at.get(file_id, 0)
        room = self._size - batch.lines()
        count = 0
        take = _take
        try:
            for count, line in enumerate(lines, start=1):
                if count <= start:
                    continue
                take(line, log_file, count, batch.records, self._result)
                room -= 1
                if room == 0:
                    batch.segments.append(_Segment(file_id, str(log_file.path), start, count))
                    batch.moves, move = batch.moves + move, []
                    yield self._sealed(batch)
                    batch, start, room = _Batch(), count, self._size
        except _Unreadable as exc:  # the lines before the cut are loaded; the file is reported
            _unreadable(log_file, exc, self._result)
        if count > start:
            batch.segments.append(_Segment(file_id, str(log_file.path), start, count))
            batch.moves += move
        self._resume_at[file_id] = max(count, start)
        self._counted[file_id] = max(count, loaded)
        self._result.files += 1
        self._result.lines += max(0, count - loaded)
        self._result.skipped_files += count <= loaded
        return batch

    @staticmethod
    def _sealed(batch: _Batch) -> _Batch:
        """Name a batch whose ranges are final by its insert token."""
        batch.token = batch.token or batch_token(batch.segments)
        return batch

    def _pending(self) -> Iterator[_Batch]:
        """Rebuild each batch a killed load left unconfirmed, exactly as it was, from the files given now."""
        groups: dict[str, list[tuple[str, _Position]]] = {}
        for file_id, position in self._ledger.items():
            if position.pending_end:
                token = position.batch or f"{file_id}:{position.lines_done}:{position.pending_end}"
                groups.setdefault(token, []).append((file_id, position))
        if not groups:
            return
        by_id = self._files_by_identity()
        for token, members in sorted(groups.items()):
            if not all(file_id in by_id for file_id, _ in members):
                self._held.update(file_id for file_id, _ in members)
                continue
            batch = _Batch(token=token)
            for file_id, position in sorted(members, key=lambda m: str(by_id[m[0]].path)):
                log_file = by_id[file_id]
                with closing(_lines(log_file, None)) as lines, suppress(_Unreadable):  # reported when read on
                    for number, line in enumerate(lines, start=1):
                        if number > position.pending_end:
                            break
                        if number > position.lines_done:
                            _take(line, log_file, number, batch.records, self._result)
                batch.segments.append(_Segment(file_id, str(log_file.path), position.lines_done,
                                               position.pending_end))
            yield batch

    def _files_by_identity(self) -> dict[str, LogFile]:
        """Map each given file's identity to the file (read only when a pending batch must be rebuilt)."""
        found: dict[str, LogFile] = {}
        identities = _Identities(self._ledger)
        for log_file in self._files:
            with closing(_lines(log_file, None)) as lines:
                try:
                    first = next(lines, None)
                except _Unreadable:
                    first = None
            if first is not None:
                found.setdefault(identities.of(log_file, first)[0], log_file)
        return found


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """Put back the first line, read to identify the file, in front of the rest."""
    yield first
    yield from rest


def _unreadable(log_file: LogFile, error: _Unreadable, result: LoadResult) -> None:
    """Count and list a file that could not be read to its end, as the file reader does (line 0, always listed)."""
    result.malformed_count += 1
    result.malformed.append(MalformedLine(str(log_file.path), 0, f"unreadable: {error}", ""))


def _take(line: bytes, log_file: LogFile, number: int, records: list[bytes], result: LoadResult) -> None:
    """Add the line's record to the batch, or count it as malformed (blank lines are neither)."""
    if not line.strip():
        return
    record, reason = _record(line, log_file.docker)
    if record is not None:
        records.append(record)
        return
    result.malformed_count += 1
    if len(result.malformed) < MAX_LISTED:
        result.malformed.append(MalformedLine(str(log_file.path), number, reason or "", excerpt(line)))


_END = object()


@dataclass(frozen=True)
class _Failed:
    """The reader thread's exception, carried to the thread that sends."""

    error: BaseException


def _in_background(items: Iterable[Any]) -> Iterator[Any]:
    """Yield ``items`` computed one ahead on another thread (so reading overlaps inserting); stop it on exit."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                handoff.put(item)
                if stop.is_set():
                    return
            handoff.put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            handoff.put(_Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="log-loader-reader", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()  # the producer now ends after at most one more put, which emptying the queue lets through
        while not handoff.empty():
            handoff.get_nowait()
        worker.join()
