"""Follow files and globs like `tail -F`, across rotation, gzip, copytruncate and restarts, exactly once.

A followed file is a *stream*: identified by device+inode plus a hash of its first bytes
(up to HEAD_BYTES, of the decompressed content for `.gz`, and never less than its whole first
line: a file is not followed before its first newline, as records share long prefixes). The
follower holds an open handle per stream, so a renamed or deleted file is still read to its end;
after a restart it finds each stream again by identity (in the active file, the renamed file, or
inside the `.gz`, resuming at the saved offset in the uncompressed stream). Its whole state is a JSON-able
snapshot that the monitor commits in the same SQLite transaction as everything the lines caused.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from tools.log_monitor.clock import system_clock

HEAD_BYTES = 1024
CHUNK = 1 << 20
DONE_KEEP = 2000


class LogSource(Protocol):
    """Something that yields complete log lines, at most `budget` of them per call."""

    def poll(self, budget: int) -> list[bytes]: ...


@dataclass
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


@dataclass
class FollowerStats:
    """Counters the monitor reports about itself."""

    long_lines: int = 0
    truncations: int = 0
    lost_streams: int = 0
    files_done: int = 0
    dropped_tails: int = 0  # a rotated file ended in a line without its newline (a writer crashed mid-line)
    dropped_tail_bytes: int = 0


@dataclass
class _Candidate:
    path: str
    dev: int
    inode: int
    size: int
    head: bytes
    gz: bool
    active: bool


@dataclass
class _Open:
    fd: int | None = None
    gz: gzip.GzipFile | None = None
    buf: bytes = b""
    last_growth: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
        if self.gz is not None:
            self.gz.close()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _read_gz_head(path: str) -> bytes | None:
    try:
        with gzip.open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        return None


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
    ) -> None:
        self.patterns = list(patterns)
        self.start_at = start_at
        self.max_line_bytes = max_line_bytes
        self.rotate_wait = rotate_wait
        self.clock = clock
        self.streams: list[Stream] = []
        self.done: dict[str, list[list[Any]]] = {p: [] for p in self.patterns}
        self.baselined: set[str] = set()
        self.stats = FollowerStats()
        self._open: dict[str, _Open] = {}
        self._head_cache: dict[str, tuple[tuple[int, int, int, int], bytes]] = {}
        self._known_done: set[tuple[str, int, int]] = set()
        self._chunk = max(CHUNK, max_line_bytes + 1)

    # -- persistence -------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Return the state to commit with the results of the lines read so far."""
        return {
            "streams": [asdict(s) for s in self.streams],
            "done": self.done,
            "baselined": sorted(self.baselined),
            "stats": asdict(self.stats),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Adopt a committed snapshot; handles are re-found by identity on the next poll."""
        self.close()
        self.streams = [Stream(**s) for s in snap.get("streams", [])]
        self.done = {p: list(snap.get("done", {}).get(p, [])) for p in self.patterns}
        self.baselined = set(snap.get("baselined", []))
        self.stats = FollowerStats(**snap.get("stats", {}))

    def close(self) -> None:
        """Close every open handle."""
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    # -- discovery ---------------------------------------------------------------------
    def _candidates(self, pattern: str) -> list[_Candidate]:
        active = set(glob.glob(pattern))
        rotated = set(glob.glob(glob.escape(pattern) + ".*" if not glob.has_magic(pattern) else pattern + ".*"))
        found = []
        for path in sorted(active | rotated):
            cand = self._describe(path, path in active and not path.endswith(".gz"))
            if cand is not None:
                found.append(cand)
        return found

    def _describe(self, path: str, active: bool) -> _Candidate | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        if not os.path.isfile(path) or st.st_size == 0:
            return None
        gz = path.endswith(".gz")
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._head_cache.get(path)
        if cached and cached[0] == key and (gz or len(cached[1]) >= HEAD_BYTES):
            head = cached[1]
        else:
            fresh = _read_gz_head(path) if gz else _pread_head(path)
            if not fresh:
                return None
            head = fresh
            self._head_cache[path] = (key, head)
        return _Candidate(path, st.st_dev, st.st_ino, st.st_size, head, gz, active)

    @staticmethod
    def _matches(s: Stream, head: bytes) -> bool:
        return len(head) >= s.head_len and _digest(head[: s.head_len]) == s.head_hash

    def _is_done(self, pattern: str, head: bytes) -> bool:
        return any(len(head) >= n and _digest(head[:n]) == h for h, n in self.done[pattern])

    def _scan(self) -> None:
        for pattern in self.patterns:
            cands = self._candidates(pattern)
            mine = [s for s in self.streams if s.pattern == pattern]
            claimed: set[str] = set()
            for s in mine:
                self._locate(s, cands, claimed)
            first = pattern not in self.baselined
            for c in cands:
                if c.path in claimed or any(self._matches(s, c.head) for s in mine):
                    continue
                if (c.path, c.size, c.inode) in self._known_done:
                    continue
                if self._is_done(pattern, c.head):
                    self._known_done.add((c.path, c.size, c.inode))
                    continue
                if c.gz and any(p.path + ".gz" == c.path for p in cands):
                    continue  # still being compressed: its plain twin is authoritative
                if b"\n" not in c.head and len(c.head) < HEAD_BYTES:
                    continue  # no whole first line yet: nothing to read, and too short a head to tell files apart
                if first and not c.active:
                    self._mark_done(pattern, c.head)
                    continue
                offset = self._start_offset(c) if first else 0
                self._new_stream(pattern, c, offset)
            self.baselined.add(pattern)

    def _locate(self, s: Stream, cands: list[_Candidate], claimed: set[str]) -> None:
        handle = self._open.get(s.sid)
        if handle is not None and handle.fd is not None:
            st = os.fstat(handle.fd)
            head = os.pread(handle.fd, s.head_len, 0)
            if st.st_size < s.offset or _digest(head) != s.head_hash:
                self._truncated(s, cands, claimed)
                return
            at_active = [c for c in cands if c.active and (c.dev, c.inode) == (st.st_dev, st.st_ino)]
            claimed.update(c.path for c in at_active)
            handle.extra["rotated"] = not at_active or st.st_nlink == 0
            return
        if handle is not None:
            return  # an open .gz is immutable
        same_inode = [c for c in cands if not c.gz and (c.dev, c.inode) == (s.dev, s.inode)]
        by_head = [c for c in cands if self._matches(s, c.head) and c.path not in claimed]
        for c in same_inode:
            if c.active and (c.size < s.offset or not self._matches(s, c.head)):
                self._truncated(s, cands, claimed)
                return
        pick = [c for c in by_head if (c.dev, c.inode) == (s.dev, s.inode)]
        pick = pick or [c for c in by_head if not c.gz] or by_head
        if not pick:
            self._forget(s, lost=True)
            return
        self._attach(s, pick[0])
        claimed.add(pick[0].path)

    def _truncated(self, s: Stream, cands: list[_Candidate], claimed: set[str]) -> None:
        """Handle copytruncate: finish the stream from its copy if one exists, else count the loss."""
        self.stats.truncations += 1
        old = self._open.pop(s.sid, None)
        if old is not None:
            old.close()
        copies = [c for c in cands if not c.active and self._matches(s, c.head) and c.path not in claimed]
        copies.sort(key=lambda c: c.gz)
        if copies and (copies[0].gz or copies[0].size >= s.offset):
            self._attach(s, copies[0])
            claimed.add(copies[0].path)
            self._open[s.sid].extra["rotated"] = True
        else:
            self._forget(s, lost=True)

    def _attach(self, s: Stream, c: _Candidate) -> None:
        handle = _Open(last_growth=self.clock())
        if c.gz:
            gzf = gzip.open(c.path, "rb")  # noqa: SIM115 - the handle outlives this call; closed by _Open.close()
            assert isinstance(gzf, gzip.GzipFile)
            try:
                gzf.seek(s.offset)
            except (OSError, EOFError, zlib.error):
                gzf.close()
                return
            handle.gz = gzf
            handle.extra["rotated"] = True
        else:
            handle.fd = os.open(c.path, os.O_RDONLY)
            handle.extra["rotated"] = not c.active
        s.path, s.dev, s.inode, s.compressed = c.path, c.dev, c.inode, c.gz
        self._open[s.sid] = handle

    def _start_offset(self, c: _Candidate) -> int:
        if self.start_at == "beginning":
            return 0
        with open(c.path, "rb") as f:
            f.seek(max(0, c.size - CHUNK))
            tail = f.read()
        cut = tail.rfind(b"\n")
        return c.size - len(tail) + cut + 1 if cut >= 0 else 0

    def _new_stream(self, pattern: str, c: _Candidate, offset: int) -> None:
        n = min(len(c.head), HEAD_BYTES)
        s = Stream(uuid.uuid4().hex, pattern, c.path, c.dev, c.inode, n, _digest(c.head[:n]), offset)
        self.streams.append(s)
        self._attach(s, c)

    def _mark_done(self, pattern: str, head: bytes) -> None:
        n = min(len(head), HEAD_BYTES)
        self.done[pattern].append([_digest(head[:n]), n])
        del self.done[pattern][:-DONE_KEEP]

    def _forget(self, s: Stream, *, lost: bool) -> None:
        handle = self._open.pop(s.sid, None)
        if handle is not None:
            handle.close()
        self.streams.remove(s)
        if lost:
            self.stats.lost_streams += 1
        else:
            self.stats.files_done += 1
            self.done[s.pattern].append([s.head_hash, s.head_len])
            del self.done[s.pattern][:-DONE_KEEP]

    # -- reading -------------------------------------------------------------------------
    def poll(self, budget: int = 10_000) -> list[bytes]:
        """Return up to `budget` complete new lines, oldest streams first."""
        self._scan()
        out: list[bytes] = []
        order = sorted(self.streams, key=lambda s: not self._open.get(s.sid, _Open()).extra.get("rotated"))
        for s in order:
            if len(out) >= budget:
                break
            if s.sid in self._open:
                self._drain(s, out, budget)
        return out

    def _read(self, s: Stream, handle: _Open) -> bytes:
        if handle.gz is not None:
            try:
                more = handle.gz.read(self._chunk)
            except (OSError, EOFError, zlib.error):
                more = b""
            data, handle.buf = handle.buf + more, b""
            return data
        assert handle.fd is not None
        return os.pread(handle.fd, self._chunk, s.offset)

    def _drain(self, s: Stream, out: list[bytes], budget: int) -> None:
        handle = self._open[s.sid]
        while len(out) < budget:
            data = self._read(s, handle)
            if handle.fd is not None:
                self._grow_head(s, handle)
            consumed = self._split(s, data, out, budget) if data else 0
            if handle.gz is not None:
                handle.buf = data[consumed:]
            if consumed == 0:
                self._maybe_finish(s, handle)
                return
            handle.last_growth = self.clock()

    def _split(self, s: Stream, data: bytes, out: list[bytes], budget: int) -> int:
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
        while pos < end and len(out) < budget:
            nl = data.index(b"\n", pos)
            if nl - pos > limit:
                self.stats.long_lines += 1
            elif nl > pos:
                out.append(data[pos:nl])
            pos = nl + 1
        if pos >= end and len(data) - end > limit and len(out) < budget:
            self.stats.long_lines += 1
            s.skipping = True
            pos = len(data)
        s.offset += pos
        return pos

    def _grow_head(self, s: Stream, handle: _Open) -> None:
        if s.head_len >= HEAD_BYTES or handle.fd is None:
            return
        head = os.pread(handle.fd, HEAD_BYTES, 0)
        if len(head) > s.head_len and _digest(head[: s.head_len]) == s.head_hash:
            s.head_len, s.head_hash = len(head), _digest(head)

    def _maybe_finish(self, s: Stream, handle: _Open) -> None:
        if not handle.extra.get("rotated"):
            return
        if handle.gz is None and self.clock() - handle.last_growth < self.rotate_wait:
            return
        if handle.gz is not None:
            tail = len(handle.buf)
        else:
            assert handle.fd is not None
            tail = os.fstat(handle.fd).st_size - s.offset
        if tail > 0 and not s.skipping:  # a skipped over-long line was already counted
            self.stats.dropped_tails += 1
            self.stats.dropped_tail_bytes += tail
        self._forget(s, lost=False)


def _pread_head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return None
