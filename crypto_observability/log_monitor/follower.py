"""Follow files and globs like `tail -F`, across rotation, gzip, copytruncate and restarts, exactly once.

A followed file is a *stream*, identified by device+inode plus a hash of its first bytes (up to
HEAD_BYTES, of the decompressed content for `.gz`, and never less than its whole first line: a file
is not followed before its first newline, as records share long prefixes). Every name is opened
first and identified from the open descriptor; a path is never acted on after it was identified.
The follower holds a descriptor per stream, so a renamed, compressed or deleted file is read to its
end; a stream that loses its descriptor (copytruncate, a restart, an I/O error) is found again by its
head in the active file, the renamed file or its `.gz`, and resumed at its offset in the uncompressed
content. A rotated file and its `.gz` are one stream. Every filesystem error is counted in `stats`
and retried on the next poll; none ends the follower or retires a stream that may still grow.
Its whole state is a JSON-able snapshot that the monitor commits with everything the lines caused.

`follow()` is the standalone use: given files or directories, yield new lines with their source.
"""

from __future__ import annotations

import errno
import gzip
import os
import time
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple, Protocol

from crypto_observability.log_monitor._discovery import Entry, list_pattern
from crypto_observability.log_monitor._file_identity import (
    GZIP_ERRORS,
    HEAD_BYTES,
    Opened,
    digest,
    first_line_len,
    open_gzip_reader,
    open_identified,
)
from crypto_observability.log_monitor.clock import system_clock

CHUNK = 1 << 20
DONE_KEEP = 100_000  # a safety cap: entries are dropped once their file is gone (see DONE_FORGET_S)
DONE_FORGET_S = 60.0  # a finished file unseen this long (in clean listings) is forgotten
POLL_STEPS = ("listed", "opening", "identified", "read", "finishing")


class LogSource(Protocol):
    """Something that yields complete log lines, at most `budget` of them per call."""

    def poll(self, budget: int) -> list[bytes]: ...


@dataclass(eq=False)  # streams are compared by identity (removal from thousands must stay cheap)
class Stream:
    """What must survive a restart about one followed file."""

    sid: str
    pattern: str
    path: str
    dev: int
    inode: int
    head_len: int
    head_hash: str
    offset: int = 0
    skipping: bool = False
    compressed: bool = False
    source: str = ""  # the active file's path (the rotated names change; this one does not)
    first_len: int = 0  # the whole first line: what a copy shorter than head_len is matched by
    first_hash: str = ""


@dataclass
class FollowerStats:
    """Counters the monitor reports about itself (`log-monitor status`)."""

    long_lines: int = 0
    truncations: int = 0
    lost_streams: int = 0
    files_done: int = 0
    dropped_tails: int = 0  # a rotated file ended in a line without its newline (a writer crashed mid-line)
    dropped_tail_bytes: int = 0
    fs_errors: dict[str, int] = field(default_factory=dict)  # errno name (or "gzip") -> count; all retried
    last_fs_error: str = ""


class Line(NamedTuple):
    """One line read by `follow()`: the active file it was written to, and its bytes without newline."""

    source: str
    line: bytes


@dataclass
class _Handle:
    """A stream's open descriptor (plain) or reader (gzip), and what it knows about the file now."""

    fd: int | None = None
    gz: gzip.GzipFile | None = None
    buf: bytes = b""
    last_growth: float = 0.0
    rotated: bool = False

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.gz is not None:
            self.gz.close()
            self.gz = None


class Follower:
    """Follow every file matching the patterns; rotated siblings are `<active>.<suffix>[.gz]`."""

    def __init__(
        self,
        patterns: list[str],
        *,
        start_at: str = "beginning",
        max_line_bytes: int = 1 << 20,
        rotate_wait: float = 5.0,
        clock: Callable[[], float] = system_clock,
        on_step: Callable[[str, str], None] | None = None,
    ) -> None:
        """`on_step(step, path)` is called at each step of a poll (POLL_STEPS): the race tests act there."""
        self.patterns = list(patterns)
        self.start_at = start_at
        self.max_line_bytes = max_line_bytes
        self.rotate_wait = rotate_wait
        self.clock = clock
        self.on_step = on_step or _no_step
        self.streams: list[Stream] = []
        self.done: dict[str, dict[tuple[str, int], float]] = {p: {} for p in self.patterns}
        self.baselined: set[str] = set()
        self.stats = FollowerStats()
        self._open: dict[str, _Handle] = {}
        self._detached_since: dict[str, float] = {}
        self._done_files: dict[str, dict[str, tuple[tuple[int, int, int, int], tuple[str, int]]]] = {}
        self._chunk = max(CHUNK, max_line_bytes + 1)
        self._truncated = False

    # -- persistence -------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Return the state to commit with the results of the lines read so far."""
        return {
            "streams": [asdict(s) for s in self.streams],
            "done": {p: [[h, n, seen] for (h, n), seen in d.items()] for p, d in self.done.items()},
            "baselined": sorted(self.baselined),
            "stats": asdict(self.stats),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Adopt a committed snapshot; descriptors are found again by identity on the next poll."""
        self.close()
        now = self.clock()
        self.streams = [Stream(**_known(Stream, s)) for s in snap.get("streams", [])]
        for s in self.streams:
            s.source = s.source or s.path
        done = snap.get("done", {})
        self.done = {p: {(e[0], e[1]): (e[2] if len(e) > 2 else now) for e in done.get(p, [])} for p in self.patterns}
        self.baselined = set(snap.get("baselined", []))
        self.stats = FollowerStats(**_known(FollowerStats, snap.get("stats", {})))
        self._detached_since = {s.sid: now for s in self.streams}

    def close(self) -> None:
        """Close every open descriptor."""
        for handle in self._open.values():
            handle.close()
        self._open.clear()
        self._done_files.clear()

    # -- reading -------------------------------------------------------------------------
    def poll(self, budget: int = 10_000, max_bytes: int | None = None) -> list[bytes]:
        """Return up to `budget` complete new lines, rotated (older) files first.

        With `max_bytes`, the lines returned hold at most that many bytes (newlines not counted), except
        that a first line longer than that is returned alone, so every poll makes progress.
        """
        out: list[bytes] = []
        for _, lines in self.poll_sources(budget, max_bytes):
            out.extend(lines)
        return out

    def poll_sources(self, budget: int = 10_000, max_bytes: int | None = None) -> list[tuple[str, list[bytes]]]:
        """Like `poll`, grouped by source: [(active file path, lines)], rotated files first."""
        out: list[tuple[str, list[bytes]]] = []
        room = _Budget(budget, max_bytes if max_bytes is not None else 1 << 62)
        for _ in range(2):  # once more at once when a copytruncate was seen: its copy is already there
            self._truncated = False
            self._scan()
            order = sorted(self.streams, key=lambda s: not self._open.get(s.sid, _Handle()).rotated)
            for s in order:
                if room.spent:
                    break
                if s.sid in self._open:
                    lines: list[bytes] = []
                    self._drain(s, lines, room)
                    if lines:
                        out.append((s.source, lines))
            if not self._truncated:
                break
        return out

    # -- errors --------------------------------------------------------------------------
    def _failed(self, path: str, exc: BaseException) -> None:
        """Count a filesystem error by kind and remember the latest; the caller retries next poll."""
        if isinstance(exc, OSError) and exc.errno is not None:
            kind = errno.errorcode.get(exc.errno, str(exc.errno))
        else:
            kind = "gzip"
        self.stats.fs_errors[kind] = self.stats.fs_errors.get(kind, 0) + 1
        self.stats.last_fs_error = f"{kind} on {path}"

    # -- discovery -----------------------------------------------------------------------
    def _scan(self) -> None:
        now = self.clock()
        for pattern in self.patterns:
            entries, clean = list_pattern(pattern, self._failed)
            self.on_step("listed", pattern)
            self._update_rotated(pattern)
            found, clean = self._open_new(pattern, entries, clean, now)
            self._assign(pattern, found, now)
            self._expire(pattern, clean, now)
            self.baselined.add(pattern)

    def _update_rotated(self, pattern: str) -> None:
        """Mark streams rotated on evidence only: their active path names another file, or none."""
        for s in self.streams:
            handle = self._open.get(s.sid)
            if s.pattern != pattern or handle is None or handle.rotated or handle.fd is None:
                continue
            try:
                st = os.stat(s.source)
            except FileNotFoundError:
                handle.rotated = True
                continue
            except OSError as exc:  # EACCES, ELOOP, ...: we cannot tell, so the stream may still grow
                self._failed(s.source, exc)
                continue
            handle.rotated = (st.st_dev, st.st_ino) != (s.dev, s.inode)

    def _open_new(
        self, pattern: str, entries: list[Entry], clean: bool, now: float
    ) -> tuple[list[tuple[Entry, Opened]], bool]:
        """Open and identify every listed name not already held or known finished; still clean?

        A listing stays clean (a stream not found in it may be counted lost) when every name in it
        could be opened or was gone (ENOENT); EACCES, ELOOP and the like hide what a name holds.
        """
        held = {(s.dev, s.inode) for s in self.streams if s.sid in self._open}
        plain = {e.path for e in entries if not e.gz}
        done_files = self._done_files.setdefault(pattern, {})
        listed = set()
        found = []
        for e in entries:
            listed.add(e.path)
            if e.gz and e.path[: -len(".gz")] in plain:
                continue  # still being compressed: the plain file is complete, the .gz may not be
            try:
                st = os.stat(e.path)
            except OSError as exc:
                self._failed(e.path, exc)
                clean = clean and isinstance(exc, FileNotFoundError)
                continue
            if (st.st_dev, st.st_ino) in held:
                continue
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            known = done_files.get(e.path)
            if known is not None and known[0] == key and known[1] in self.done[pattern]:
                self.done[pattern][known[1]] = now
                continue
            self.on_step("opening", e.path)
            try:
                opened = open_identified(e.path, e.gz)
            except GZIP_ERRORS as exc:
                self._failed(e.path, exc)
                clean = clean and isinstance(exc, FileNotFoundError)
                continue
            if opened is None:
                continue
            self.on_step("identified", e.path)
            if (opened.dev, opened.inode) in held or not opened.has_whole_first_line():
                os.close(opened.fd)
                continue
            done = self._done_key(pattern, opened.head)
            if done is not None:
                self.done[pattern][done] = now
                done_files[e.path] = ((opened.dev, opened.inode, opened.size, st.st_mtime_ns), done)
                os.close(opened.fd)
                continue
            found.append((e, opened))
        if clean:
            for path in [p for p in done_files if p not in listed]:
                del done_files[path]
        return found, clean

    def _assign(self, pattern: str, found: list[tuple[Entry, Opened]], now: float) -> None:
        """Give each opened file to the stream it continues, or start a stream; close the rest."""
        mine = [s for s in self.streams if s.pattern == pattern]
        detached = _HeadIndex(s for s in mine if s.sid not in self._open)
        held = _HeadIndex(s for s in mine if s.sid in self._open)
        # a stream that lost its descriptor prefers its own inode, then a plain copy, then the .gz;
        # a rotated copy shorter than its offset (copytruncate copied before we read on) only ends it
        found.sort(key=lambda pair: pair[1].gz)
        for kind in ("own", "copy", "short copy"):
            if not detached:
                break
            for pair in list(found):
                e, opened = pair
                for s in detached.lookup(opened.head):
                    own = (opened.dev, opened.inode) == (s.dev, s.inode)
                    if (kind == "own" and not own) or _shrunk(s, opened) != (kind == "short copy"):
                        continue
                    if kind == "short copy" and e.active and own:
                        continue  # truncated in place keeping its head: not a copy (see `_expire`)
                    found.remove(pair)
                    detached.remove(s)
                    if kind == "short copy":
                        os.close(opened.fd)
                        self._forget(s, lost=False)
                    elif self._attach(s, e, opened, now):
                        self._detached_since.pop(s.sid, None)
                    break
        first = pattern not in self.baselined
        for e, opened in found:
            if held.lookup(opened.head):
                os.close(opened.fd)  # a copy or the .gz of a file we hold: we read it once, through our own
                continue
            if first and not e.active:
                self._mark_done(pattern, opened.head, now)
                os.close(opened.fd)
                continue
            try:
                offset = self._end_offset(opened) if first and self.start_at == "end" else 0
            except OSError as exc:
                self._failed(e.path, exc)
                os.close(opened.fd)
                continue
            n, line = min(len(opened.head), HEAD_BYTES), first_line_len(opened.head)
            s = Stream(uuid.uuid4().hex, pattern, e.path, opened.dev, opened.inode, n, digest(opened.head[:n]))
            s.offset, s.source = offset, e.source
            s.first_len, s.first_hash = line, digest(opened.head[:line])
            self.streams.append(s)
            held.add(s)
            self._attach(s, e, opened, now)

    def _attach(self, s: Stream, e: Entry, opened: Opened, now: float) -> bool:
        """Read stream `s` from now on through the descriptor just opened and identified."""
        handle = _Handle(last_growth=now, rotated=not e.active or opened.nlink == 0)
        if opened.gz:
            try:
                handle.gz = open_gzip_reader(opened.fd, s.offset)
            except GZIP_ERRORS as exc:
                self._failed(e.path, exc)
                return False
            handle.rotated = True
        else:
            handle.fd = opened.fd
        s.path, s.dev, s.inode, s.compressed = e.path, opened.dev, opened.inode, opened.gz
        s.source = s.source or e.source
        self._open[s.sid] = handle
        return True

    def _expire(self, pattern: str, clean: bool, now: float) -> None:
        """Count as lost the streams not found for rotate_wait in complete listings; forget gone files."""
        for s in [s for s in self.streams if s.pattern == pattern and s.sid not in self._open]:
            since = self._detached_since.setdefault(s.sid, now)
            if clean and now - since >= self.rotate_wait:
                self._forget(s, lost=True)
        if clean:
            forget = max(DONE_FORGET_S, 2 * self.rotate_wait)
            done = self.done[pattern]
            for key in [k for k, seen in done.items() if now - seen > forget]:
                del done[key]

    def _done_key(self, pattern: str, head: bytes) -> tuple[str, int] | None:
        done = self.done[pattern]
        for n in {n for _, n in done}:
            if len(head) >= n and (key := (digest(head[:n]), n)) in done:
                return key
        return None

    def _end_offset(self, opened: Opened) -> int:
        if opened.gz:
            return 0
        start = max(0, opened.size - CHUNK)
        tail = os.pread(opened.fd, opened.size - start, start)
        cut = tail.rfind(b"\n")
        return start + cut + 1 if cut >= 0 else 0

    def _mark_done(self, pattern: str, head: bytes, now: float) -> None:
        n, line = min(len(head), HEAD_BYTES), first_line_len(head)
        self._remember_done(pattern, (digest(head[:n]), n), now)
        self._remember_done(pattern, (digest(head[:line]), line), now)  # and its shorter copies

    def _remember_done(self, pattern: str, key: tuple[str, int], now: float) -> None:
        done = self.done[pattern]
        done[key] = now
        while len(done) > DONE_KEEP:
            del done[next(iter(done))]

    def _detach(self, s: Stream) -> None:
        handle = self._open.pop(s.sid, None)
        if handle is not None:
            handle.close()
        self._detached_since[s.sid] = self.clock()

    def _forget(self, s: Stream, *, lost: bool) -> None:
        handle = self._open.pop(s.sid, None)
        if handle is not None:
            handle.close()
        self._detached_since.pop(s.sid, None)
        self.streams.remove(s)
        if lost:
            self.stats.lost_streams += 1
        else:
            self.stats.files_done += 1
            self._remember_done(s.pattern, (s.head_hash, s.head_len), self.clock())
            if s.first_len:  # a copy shorter than head_len (copytruncate) is this file too
                self._remember_done(s.pattern, (s.first_hash, s.first_len), self.clock())

    # -- draining ------------------------------------------------------------------------
    def _drain(self, s: Stream, out: list[bytes], room: _Budget) -> None:
        handle = self._open[s.sid]
        try:
            while not room.spent:
                data = self._read(s, handle)
                if data is None:
                    return  # truncated under us: found again (in its copy) on the next poll
                consumed = self._split(s, data, out, room) if data else 0
                if handle.gz is not None:
                    handle.buf = data[consumed:]
                if consumed == 0:
                    if not room.spent:  # nothing more to read, not a line the budget left unread
                        self._maybe_finish(s, handle)
                    return
                handle.last_growth = self.clock()
        except GZIP_ERRORS as exc:
            self._failed(s.path, exc)
            if handle.gz is not None:  # a corrupt .gz will not get better: what is left of it is lost
                self._forget(s, lost=True)
            else:  # EIO and the like: found again by identity on the next poll
                self._detach(s)

    def _read(self, s: Stream, handle: _Handle) -> bytes | None:
        """The bytes past the stream's offset; None (and the stream detached) when it was truncated."""
        if handle.gz is not None:
            more = handle.gz.read(self._chunk)
            data, handle.buf = handle.buf + more, b""
            return data
        assert handle.fd is not None
        data = os.pread(handle.fd, self._chunk, s.offset)
        self.on_step("read", s.path)
        # copytruncate (then perhaps a rename): the head we identified the file by is gone, or the file is
        # shorter than our offset. Checked after the read: if the head still holds, what was read predates it
        st = os.fstat(handle.fd)
        head = os.pread(handle.fd, max(s.head_len, HEAD_BYTES), 0)
        if st.st_size < s.offset or len(head) < s.head_len or digest(head[: s.head_len]) != s.head_hash:
            self.stats.truncations += 1
            self._truncated = True
            self._detach(s)
            return None
        if s.head_len < HEAD_BYTES and len(head) > s.head_len:
            s.head_len, s.head_hash = len(head), digest(head)
        if st.st_nlink == 0:
            handle.rotated = True
        return data

    def _split(self, s: Stream, data: bytes, out: list[bytes], room: _Budget) -> int:
        """Append the whole lines of `data` that `room` allows to `out`; return the bytes consumed."""
        pos = 0
        if s.skipping:
            nl = data.find(b"\n")
            if nl < 0:
                s.offset += len(data)
                return len(data)
            pos = nl + 1
            s.skipping = False
        end = data.rfind(b"\n") + 1
        limit = self.max_line_bytes
        if pos < end and not room.spent:  # the common case in C: split, check lengths, keep non-empty lines
            parts = data[pos : end - 1].split(b"\n")
            taken = parts[: room.lines]
            cut = False
            if end - pos - len(taken) > room.bytes:  # the byte budget may end this chunk early
                n = room.fit(list(map(len, taken)))
                taken, cut = taken[:n], n < len(taken)
            if taken and max(map(len, taken)) <= limit:
                before = len(out)
                out.extend(filter(None, taken) if b"" in taken else taken)
                whole = len(taken) == len(parts)
                used = end - pos - len(taken) if whole else sum(map(len, taken))
                pos = end if whole else pos + used + len(taken)
                room.take(len(out) - before, used)
                room.full = cut
        while pos < end and not room.spent:
            nl = data.index(b"\n", pos)
            if nl - pos > limit:
                self.stats.long_lines += 1
            elif nl > pos:
                if nl - pos > room.bytes and room.started:
                    room.full = True
                    break
                out.append(data[pos:nl])
                room.take(1, nl - pos)
            pos = nl + 1
        if pos >= end and len(data) - end > limit and not room.spent:
            self.stats.long_lines += 1
            s.skipping = True
            pos = len(data)
        s.offset += pos
        return pos

    def _maybe_finish(self, s: Stream, handle: _Handle) -> None:
        if not handle.rotated:
            return
        if handle.gz is None and self.clock() - handle.last_growth < self.rotate_wait:
            return
        self.on_step("finishing", s.path)
        if handle.gz is not None:
            tail = len(handle.buf)
        else:
            assert handle.fd is not None
            if _has_newline_after(handle.fd, s.offset):
                return  # a whole line arrived since the read: read on
            tail = os.fstat(handle.fd).st_size - s.offset
        if tail > 0 and not s.skipping:  # a skipped over-long line was already counted
            self.stats.dropped_tails += 1
            self.stats.dropped_tail_bytes += tail
        self._forget(s, lost=False)


@dataclass
class _Budget:
    """What a poll may still return: lines, and bytes of them; `full` once a line did not fit."""

    lines: int
    bytes: int
    started: bool = False  # a line was taken: from now on a line longer than `bytes` waits for the next poll
    full: bool = False

    @property
    def spent(self) -> bool:
        return self.full or self.lines <= 0

    def take(self, lines: int, size: int) -> None:
        self.lines -= lines
        self.bytes -= size
        self.started = self.started or lines > 0

    def fit(self, sizes: list[int]) -> int:
        """How many of these lines, in order, fit in the bytes left (one at least if none was taken yet)."""
        left, n, took = self.bytes, 0, self.started
        for size in sizes:
            if size > left and took:
                break
            left -= size
            n += 1
            took = took or size > 0  # an empty line is skipped, not taken
        return n


class _HeadIndex:
    """Streams by the head they were identified by, to find the ones an opened file continues."""

    def __init__(self, streams: Iterable[Stream]) -> None:
        self._by_head: dict[tuple[str, int], list[Stream]] = {}
        self._by_first: dict[tuple[str, int], list[Stream]] = {}
        for s in streams:
            self.add(s)

    def __bool__(self) -> bool:
        return bool(self._by_head)

    def add(self, s: Stream) -> None:
        self._by_head.setdefault((s.head_hash, s.head_len), []).append(s)
        if s.first_len:
            self._by_first.setdefault((s.first_hash, s.first_len), []).append(s)

    def remove(self, s: Stream) -> None:
        for index, key in ((self._by_head, (s.head_hash, s.head_len)), (self._by_first, (s.first_hash, s.first_len))):
            if key in index:
                index[key].remove(s)
                if not index[key]:
                    del index[key]

    def lookup(self, head: bytes) -> list[Stream]:
        """The streams this file continues: it starts with their head, or is shorter and has their first line."""
        out: list[Stream] = []
        for n in {n for _, n in self._by_head}:
            if len(head) >= n:
                out.extend(self._by_head.get((digest(head[:n]), n), ()))
        for n in {n for _, n in self._by_first}:
            if len(head) >= n:
                short = (s for s in self._by_first.get((digest(head[:n]), n), ()) if s.head_len > len(head))
                out.extend(s for s in short if s not in out)
        return out


def _shrunk(s: Stream, opened: Opened) -> bool:
    """A plain file shorter than the stream's offset is not that stream (it was truncated): find the copy."""
    return not opened.gz and opened.size < s.offset


def _has_newline_after(fd: int, offset: int) -> bool:
    """Tell whether a whole line arrived past ``offset`` (a last look before a rotated file is closed)."""
    pos = offset
    while chunk := os.pread(fd, CHUNK, pos):
        if b"\n" in chunk:
            return True
        pos += len(chunk)
    return False


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Keep the keys a dataclass knows (snapshots written by another version may have others)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _no_step(step: str, path: str) -> None:
    """The default `on_step`: production polls do nothing between their steps."""


def follow(
    paths: Iterable[str],
    *,
    start_at: str = "end",
    poll_interval: float = 0.25,
    rotate_wait: float = 5.0,
    max_line_bytes: int = 1 << 20,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = system_clock,
) -> Generator[Line, None, None]:
    """Yield every new line of the given files (or of `<dir>/*.log` for a directory) as `Line(source, line)`.

    No state database: `start_at="end"` yields what is written from now on, `"beginning"` also what
    the active files hold already (rotated files present at start are history and are skipped).
    Rotation, compression and copytruncate are followed exactly once while the generator lives;
    closing the generator (`close()`, or dropping it) closes every file. Filesystem errors are retried.
    """
    if start_at not in ("end", "beginning"):
        raise ValueError(f"start_at={start_at!r}: expected 'end' or 'beginning'")
    patterns = [os.path.join(p, "*.log") if os.path.isdir(p) else p for p in paths]
    follower = Follower(
        patterns, start_at=start_at, max_line_bytes=max_line_bytes, rotate_wait=rotate_wait, clock=clock
    )
    follower.poll(0)  # the starting positions are taken now, not at the first next()
    return _lines(follower, poll_interval, sleep)


def _lines(follower: Follower, poll_interval: float, sleep: Callable[[float], None]) -> Generator[Line, None, None]:
    """The generator behind `follow()`: poll, yield, sleep when there is nothing new; close at the end."""
    try:
        while True:
            groups = follower.poll_sources()
            for source, lines in groups:
                for line in lines:
                    yield Line(source, line)
            if not groups:
                sleep(poll_interval)
    finally:
        follower.close()
