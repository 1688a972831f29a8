"""Search the log files themselves: the records matching a query, oldest (or newest) first, streamed.

Only the files that can hold a match are read: a time window skips files by their index (exact first and
last time), else by the analyzer's record cache, else by their rotation names; a request id or user skips
the rotated files whose index lacks it. A file is read in chunks of whole lines; the bytes are searched
first for what every match must contain (``SearchQuery.prefilter``) and only those lines are parsed and
tested (``SearchQuery.matches``). Each service's files are read in order and the services merged by time,
so memory holds one chunk per service plus the matches of one file, whatever the size of the logs.
"""

from __future__ import annotations

import heapq
import os
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from crypto_observability.log_analyzer.malformed import MAX_LISTED, MalformedLine, classify
from crypto_observability.log_analyzer.search_index import FileIndex, IndexBuilder, IndexStore, name_bounds
from crypto_observability.log_analyzer.search_query import SearchQuery
from crypto_observability.log_analyzer.sources import LogFile, resolve_inputs

CHUNK = 8 << 20  # bytes of whole lines searched at once
_TS = b'{"timestamp":"'
_REQUIRED = ("timestamp", "service", "level", "message")


@dataclass(frozen=True, slots=True)
class Hit:
    """One line to show: a matching record, or (``match`` False) a context line beside one."""

    ts: str  # the record's timestamp text ("" when the line is not a record)
    rank: int  # the file's place in the input
    line: int  # 1-based line number in its file
    raw: bytes  # the record's JSON, unwrapped from Docker's json-file line
    match: bool
    path: str

    def record(self) -> dict[str, Any] | None:
        """Return the parsed record (None for a context line that is not one)."""
        try:
            value = orjson.loads(self.raw)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


@dataclass
class SearchStats:
    """What a search read and skipped, for ``--stats``, the benchmark and the tests."""

    files: int = 0
    files_read: int = 0
    skipped_by_time: int = 0
    skipped_by_index: int = 0
    indexed: int = 0  # rotated files whose index this search wrote
    read_in_workers: int = 0  # of the files read, those read by worker processes
    bytes_read: int = 0  # decompressed
    lines_parsed: int = 0
    matches: int = 0
    malformed_count: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return the counters as plain data (the malformed lines listed)."""
        out = {k: v for k, v in vars(self).items() if k != "malformed"}
        return {**out, "malformed": [m.to_dict() for m in self.malformed]}


def _chunks(log_file: LogFile, stop_at: int | None = None) -> Iterator[bytes]:
    """Yield the file's content in chunks of whole lines (a last line without newline is yielded alone)."""
    source = _gunzip(log_file.path) if log_file.compressed else _plain(log_file.path, stop_at)
    rest = b""
    for block in source:
        cut = block.rfind(b"\n") + 1
        if cut:
            yield rest + block[:cut] if rest else block[:cut]
            rest = block[cut:]
        else:
            rest += block
    if rest:
        yield rest


def _plain(path: Path, stop_at: int | None) -> Iterator[bytes]:
    left = stop_at
    with open(path, "rb") as handle:
        while left is None or left > 0:
            block = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block


def _gunzip(path: Path) -> Iterator[bytes]:
    """Decompress every gzip member of the file in blocks (zlib directly: no per-read overhead).

    A damaged or truncated stream raises (``zlib.error``, ``EOFError``) after the blocks before the damage.
    """
    inflater = zlib.decompressobj(31)
    with open(path, "rb") as handle:
        while True:
            raw = handle.read(CHUNK // 8)
            if not raw:
                break
            while raw:
                yield inflater.decompress(raw)
                raw = inflater.unused_data
                if raw:
                    inflater = zlib.decompressobj(31)
    if not inflater.eof:
        raise EOFError("compressed file ended before the end-of-stream marker")


def _unwrap(line: bytes) -> bytes | None:
    """Return the record inside a Docker json-file line, or None when there is none."""
    try:
        outer = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    inner = outer.get("log") if isinstance(outer, dict) else None
    return inner.rstrip("\n").encode() if isinstance(inner, str) else None


def _line_spans(data: bytes, groups: tuple[tuple[bytes, ...], ...], folded: tuple[bytes, ...]
                ) -> Iterable[tuple[int, int]]:
    """Yield (start, end) of the lines holding a needle of every group and every folded needle."""
    if groups:
        first, rest = groups[0], groups[1:]
        haystack = data
    elif folded:
        first, rest, haystack = (folded[0],), (), data.lower()
        folded = folded[1:]
    else:
        start = 0
        while start < len(data):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            yield start, end
            start = end + 1
        return
    spans: dict[int, int] = {}  # line start -> end, each line once however many needles it holds
    for needle in first:
        pos = haystack.find(needle)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end
            if start not in spans:
                line = data[start:end]
                if all(any(n in line for n in group) for group in rest) and (
                        not folded or all(n in line.lower() for n in folded)):
                    spans[start] = end
            pos = haystack.find(needle, end)
    yield from sorted(spans.items()) if len(first) > 1 else spans.items()


class _FileScan:
    """Read one file for one query: its hits in file order, its index when it was read whole."""

    def __init__(self, query: SearchQuery, log_file: LogFile, rank: int, context: int, stats: SearchStats,
                 build: bool, stop_at: int | None, show_malformed: bool) -> None:
        self.query, self.file, self.rank, self.context, self.stats = query, log_file, rank, context, stats
        self.builder = IndexBuilder() if build else None
        self.stop_at, self.show_malformed = stop_at, show_malformed
        self.groups, self.folded = query.prefilter(log_file.docker)
        since, until = query.since_text, query.until_text
        self.timed = since is not None or until is not None
        self._since_b = since.encode() if since else None
        self._until_b = until.encode() if until else None

    def _in_window(self, line: bytes) -> bool:
        """Reject by the timestamp bytes alone when the line starts with it (our records do)."""
        if not self.timed or not line.startswith(_TS):
            return True
        stamp = line[14:38]
        return (self._since_b is None or stamp >= self._since_b) and (self._until_b is None or stamp < self._until_b)

    def _may_match(self, line: bytes) -> bool:
        """Say whether a line passes the byte tests (in the window, holding every needle)."""
        return self._in_window(line) and all(any(n in line for n in group) for group in self.groups) and (
            not self.folded or all(n in line.lower() for n in self.folded))

    def _parse(self, raw: bytes, number: int, last: bool) -> tuple[bytes, dict[str, Any]] | None:
        """Return the record's JSON and dict, or None (counting it when it is not a record)."""
        self.stats.lines_parsed += 1
        body = _unwrap(raw) if self.file.docker else raw
        record = None
        if body is not None:
            try:
                record = orjson.loads(body)
            except orjson.JSONDecodeError:
                record = None
        if isinstance(record, dict) and all(isinstance(record.get(k), str) for k in _REQUIRED):
            return body, record  # type: ignore[return-value]
        reason = classify(raw, last) or "not a record"
        self.stats.malformed_count += 1
        if self.show_malformed and len(self.stats.malformed) < MAX_LISTED:
            text = raw[:80].decode("utf-8", "replace")
            excerpt = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)
            self.stats.malformed.append(MalformedLine(str(self.file.path), number, reason, excerpt))
        return None

    def hits(self) -> list[Hit]:
        """Return the file's matches (and context lines) in file order."""
        out: list[Hit] = []
        try:
            self._read(out)
        except (OSError, EOFError, zlib.error) as exc:  # reported like a bad line; what was read still counts
            self.builder = None  # a partial read must not become an index
            self.stats.malformed_count += 1
            if len(self.stats.malformed) < MAX_LISTED:
                self.stats.malformed.append(MalformedLine(str(self.file.path), 0, f"unreadable: {exc}", ""))
        self.stats.matches += sum(1 for h in out if h.match)
        return out

    def _read(self, out: list[Hit]) -> None:
        """Scan the file chunk by chunk into ``out``."""
        line_no = 0  # lines before the current chunk
        after = 0  # context lines still owed after the last match
        before: deque[tuple[int, bytes]] = deque(maxlen=self.context)
        emitted_upto = 0
        for chunk in _chunks(self.file, self.stop_at):
            self.stats.bytes_read += len(chunk)
            lines = chunk.count(b"\n")
            if self.builder is not None:
                whole = chunk.endswith(b"\n")
                self.builder.add(chunk if whole else chunk + b"\n", lines if whole else lines + 1)
            if self.context:
                line_no, after, emitted_upto = self._with_context(chunk, line_no, after, before, emitted_upto, out)
                continue
            counted, at = line_no, 0
            for start, end in _line_spans(chunk, self.groups, self.folded):
                counted += chunk.count(b"\n", at, start)
                at = start
                raw = chunk[start:end]
                if not raw or not self._in_window(raw):
                    continue
                parsed = self._parse(raw, counted + 1, end == len(chunk) and not chunk.endswith(b"\n"))
                if parsed and self.query.matches(parsed[1]):
                    out.append(Hit(parsed[1]["timestamp"], self.rank, counted + 1, parsed[0], True,
                                   str(self.file.path)))
            line_no += lines

    def _with_context(self, chunk: bytes, line_no: int, after: int, before: deque[tuple[int, bytes]],
                      emitted_upto: int, out: list[Hit]) -> tuple[int, int, int]:
        """Walk every line of a chunk keeping ``context`` lines around each match (like grep -C)."""
        lines = chunk.split(b"\n")
        if chunk.endswith(b"\n"):
            lines.pop()
        for raw in lines:
            line_no += 1
            parsed = self._parse(raw, line_no, False) if raw and self._may_match(raw) else None
            matched = parsed is not None and self.query.matches(parsed[1])
            if matched:
                for number, previous in before:
                    if number > emitted_upto:
                        out.append(self._context_hit(previous, number))
                before.clear()
                assert parsed is not None
                out.append(Hit(parsed[1]["timestamp"], self.rank, line_no, parsed[0], True, str(self.file.path)))
                emitted_upto, after = line_no, self.context
            elif after > 0 and raw:
                out.append(self._context_hit(raw, line_no))
                emitted_upto, after = line_no, after - 1
            elif raw:
                before.append((line_no, raw))
        return line_no, after, emitted_upto

    def _context_hit(self, raw: bytes, number: int) -> Hit:
        body = (_unwrap(raw) or raw) if self.file.docker else raw
        stamp = body[14:38].decode("ascii", "replace") if body.startswith(_TS) else ""
        return Hit(stamp, self.rank, number, body, False, str(self.file.path))


@dataclass
class Plan:
    """Which files a search reads, in the order it reads them, and what it knows about each beforehand."""

    streams: list[list[tuple[int, LogFile]]]  # one per service, files oldest first
    indexes: dict[LogFile, FileIndex]


def _overlaps(bounds: tuple[str | None, str | None], since: str | None, until: str | None) -> bool:
    first, last = bounds
    return not ((since is not None and last is not None and last < since)
                or (until is not None and first is not None and first >= until))


def _cache_bounds(files: list[LogFile], cache_dir: Path) -> dict[LogFile, tuple[str | None, str | None]]:
    """Ask the analyzer's record cache for the time range of rotated files it already holds (DuckDB)."""
    out: dict[LogFile, tuple[str | None, str | None]] = {}
    if not any(Path(cache_dir).glob("*.duckdb")):
        return out
    from crypto_observability.log_analyzer.cache import (
        RecordCache,  # imports DuckDB: only when it holds something to ask
    )

    cache = RecordCache(cache_dir)
    entries = {f: e for f in files if (e := cache.lookup(f)) is not None}
    if not entries:
        return out
    import duckdb

    con = duckdb.connect()
    try:
        for log_file, entry in entries.items():
            try:
                con.execute(f"ATTACH '{str(entry.database).replace(chr(39), chr(39) * 2)}' AS c (READ_ONLY)")
                row = con.execute("SELECT strftime(min(ts), '%Y-%m-%dT%H:%M:%S.%gZ'), "
                                  "strftime(max(ts), '%Y-%m-%dT%H:%M:%S.%gZ') FROM c.records WHERE _ok").fetchone()
                con.execute("DETACH c")
                if row and row[0]:
                    out[log_file] = (row[0], row[1])
            except duckdb.Error:
                con.execute("DETACH DATABASE IF EXISTS c")
    finally:
        con.close()
    return out


def plan(files: list[LogFile], query: SearchQuery, store: IndexStore | None, stats: SearchStats,
         cache_dir: Path | None = None) -> Plan:
    """Choose the files to read: skip those whose known time range misses the window or whose index lacks the id."""
    indexes = {f: idx for f in files if f.immutable and store is not None and (idx := store.lookup(f)) is not None}
    since, until = query.since_text, query.until_text
    bounds = name_bounds(files)
    if since or until:
        for log_file, idx in indexes.items():
            if idx.first is not None:
                bounds[log_file] = (idx.first, idx.last)
        unknown = [f for f in files if f.immutable and f not in indexes]
        if unknown and cache_dir is not None:
            bounds.update(_cache_bounds(unknown, cache_dir))
    streams: dict[str, list[tuple[int, LogFile]]] = {}
    for rank, log_file in enumerate(files):
        stats.files += 1
        if (since or until) and not _overlaps(bounds[log_file], since, until):
            stats.skipped_by_time += 1
            continue
        idx = indexes.get(log_file)
        if query.request_ids and idx is not None and not idx.may_hold(query.request_ids):
            stats.skipped_by_index += 1
            continue
        streams.setdefault(log_file.sort_key[0], []).append((rank, log_file))
    return Plan(list(streams.values()), indexes)


@dataclass
class SearchOptions:
    """How a search reads and what it yields besides the matches."""

    reverse: bool = False
    limit: int | None = None
    context: int = 0
    show_malformed: bool = False
    cache_dir: Path | None = None  # where indexes live (``<cache>/search``); None: no index read or written
    stop_at: dict[Path, int] = field(default_factory=dict)  # read active files only this far (for --follow)
    workers: int = max(1, min(4, os.cpu_count() or 1))  # processes for a first read of many rotated files
    parallel_bytes: int = 16 << 20  # ... when their compressed size reaches this


def _scan(query: SearchQuery, options: SearchOptions, log_file: LogFile, rank: int, build: bool
          ) -> tuple[list[Hit], SearchStats, FileIndex | None]:
    """Read one file: its hits in time order, what reading it cost, and its index when ``build``."""
    stats = SearchStats()
    scan = _FileScan(query, log_file, rank, options.context, stats, build, options.stop_at.get(log_file.path),
                     options.show_malformed)
    hits = scan.hits()
    hits.sort(key=_key, reverse=options.reverse)
    return hits, stats, scan.builder.finish(log_file.path) if scan.builder is not None else None


class _Reader:
    """Reads the planned files, the big unindexed rotated ones in worker processes ahead of need.

    A first search must decompress every rotated file and index it; that is CPU-bound (zlib, regex), so
    with more than one core and enough to read the files are spread over processes, at most ``window``
    ahead of the one the merge is waiting for. Everything else is read in this process.
    """

    def __init__(self, query: SearchQuery, options: SearchOptions, stats: SearchStats, store: IndexStore | None,
                 chosen: Plan) -> None:
        self.query, self.options, self.stats, self.store = query, options, stats, store
        self.build = {f for entries in chosen.streams for _, f in entries
                      if store is not None and f.immutable and f not in chosen.indexes and not f.docker}
        self.pool: Any = None
        self.futures: dict[LogFile, Any] = {}
        self.queue: list[tuple[int, LogFile]] = []
        workers = min(options.workers, len(self.build))
        # fork only a single-threaded process (the CLI): a forked copy of another thread's held lock never opens
        if workers > 1 and sum(f.size for f in self.build) >= options.parallel_bytes and threading.active_count() == 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            order = sorted((entry for entries in chosen.streams for entry in entries),
                           key=lambda e: (*e[1].sort_key[1:], e[1].path.name), reverse=options.reverse)
            self.queue = [e for e in order if e[1] in self.build]
            self.window = workers * 2

    def _fill(self) -> None:
        while self.queue and len(self.futures) < self.window:
            rank, log_file = self.queue.pop(0)
            self.futures[log_file] = self.pool.submit(_scan, self.query, self.options, log_file, rank, True)

    def hits(self, rank: int, log_file: LogFile) -> list[Hit]:
        """Return one file's hits, merging what reading it cost into the search's stats."""
        if self.pool is not None and log_file in self.build:
            self._fill()
            future = self.futures.pop(log_file, None)
            if future is None:
                self.queue = [e for e in self.queue if e[1] != log_file]
                future = self.pool.submit(_scan, self.query, self.options, log_file, rank, True)
            found: tuple[list[Hit], SearchStats, FileIndex | None] = future.result()
            hits, stats, index = found
            self.stats.read_in_workers += 1
            self._fill()
        else:
            hits, stats, index = _scan(self.query, self.options, log_file, rank, log_file in self.build)
        self._merge(stats)
        if index is not None and self.store is not None:
            self.store.store(log_file, index)
            self.stats.indexed += 1
        return hits

    def _merge(self, stats: SearchStats) -> None:
        self.stats.files_read += 1
        for name in ("bytes_read", "lines_parsed", "matches", "malformed_count"):
            setattr(self.stats, name, getattr(self.stats, name) + getattr(stats, name))
        self.stats.malformed += stats.malformed[:MAX_LISTED - len(self.stats.malformed)]

    def close(self) -> None:
        """Stop the workers (files not yet needed are dropped unread)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _stream(entries: list[tuple[int, LogFile]], reader: _Reader, reverse: bool) -> Iterator[Hit]:
    """Yield one service's hits, file after file, each file's hits in time order."""
    for rank, log_file in reversed(entries) if reverse else entries:
        yield from reader.hits(rank, log_file)


def _key(hit: Hit) -> tuple[str, int, int]:
    return hit.ts, hit.rank, hit.line


def search(specs: Iterable[str], query: SearchQuery, options: SearchOptions | None = None,
           stats: SearchStats | None = None, files: list[LogFile] | None = None) -> Iterator[Hit]:
    """Yield the hits of ``query`` over the files named by ``specs``, merged across services in time order.

    ``--limit`` counts matches only; the context lines of the last match still follow it.
    """
    options = options or SearchOptions()
    stats = stats if stats is not None else SearchStats()
    files = files if files is not None else resolve_inputs(specs)
    store = IndexStore(options.cache_dir) if options.cache_dir is not None else None
    chosen = plan(files, query, store, stats, options.cache_dir)
    reader = _Reader(query, options, stats, store, chosen)
    try:
        merged = heapq.merge(*(_stream(e, reader, options.reverse) for e in chosen.streams), key=_key,
                             reverse=options.reverse)
        shown, last = 0, None
        for hit in merged:
            if options.limit is not None and shown >= options.limit:
                # past the limit only the after-context of the last match is still shown
                if hit.match or last is None or hit.path != last.path or abs(hit.line - last.line) > options.context:
                    break
            elif hit.match:
                shown, last = shown + 1, hit
            yield hit
    finally:
        reader.close()


def read_records(hits: Iterable[Hit]) -> Iterator[dict[str, Any]]:
    """Yield the parsed record of each matching hit (the form ``trace`` consumes)."""
    for hit in hits:
        if hit.match:
            record = hit.record()
            if record is not None:
                yield record

