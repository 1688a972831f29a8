"""The log file: append whole batches to ``$LOG_DIR/<service>.log``, rotate, compress, never raise.

Several processes of one service may share the file. Each batch is written with one
O_APPEND ``os.write`` while holding an exclusive flock on ``.<name>.log.lock``; under that
lock a writer first checks the active file is still the one it has open (another process
may have rotated it) and rotates when the size or age limit says so. The lock file also
records when the active file was created, which is what age rotation measures.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from crypto_observability.shared import _rotation
from crypto_observability.shared._compressor import Compressor
from crypto_observability.shared._outage import Outage
from crypto_observability.shared._rotation import list_rotated, read_lines, rotated_name, rotated_sort_key

__all__ = ["RotatingFileOutput", "list_rotated", "read_lines", "rotated_name", "rotated_sort_key"]

_LOCK_ATTEMPTS = 3
_LOCK_CHECK_INTERVAL_S = 1.0  # how stale the lock file's identity may be while the log is unchanged
_RECORD_SIZE = 128


class RotatingFileOutput:
    """Append pre-rendered lines to a log file shared safely by several processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = 50 * 1024 * 1024,
        max_age_s: float | None = None,
        backup_count: int = 10,
        compress: bool = True,
        clock: Callable[[], float] = time.time,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Validate the limits; the file itself is opened on the first write, never here."""
        _check_limits(max_bytes, max_age_s, backup_count)
        self._path = Path(os.path.abspath(path))
        self._lock_path = self._path.with_name(f".{self._path.name}.lock")
        self._max_bytes = max_bytes
        self._max_age_s = max_age_s
        self._clock = clock
        self._outage = Outage(str(self._path), on_error)
        self._compressor = Compressor(self._path, backup_count, compress, self._outage.report)
        self._fd = -1
        self._ident = (0, 0)
        self._lock_fd = -1
        self._lock_ident = (0, 0)
        self._lock_checked = 0.0
        self._path_str = str(self._path)
        self._created_at = 0.0
        self._mutex = threading.Lock()
        self._closed = False
        self._swept_leftovers = False
        _LIVE.add(self)

    @property
    def path(self) -> Path:
        """The active file's absolute path."""
        return self._path

    def write(self, data: bytes) -> None:
        """Append ``data`` (whole lines) in one piece; on failure drop it and report once."""
        if not data:
            return
        message = None
        with self._mutex:
            now = self._clock()
            if self._closed:
                message = self._outage.refuse(data, "the output is closed")
            elif self._outage.waiting(now):
                self._outage.hold(data)
            else:
                data = self._outage.take_held(data)
                try:
                    self._write_locked(data, now)
                except Exception as exc:  # never raise into the logging caller
                    self._close_fds()  # the next attempt reopens everything from the paths
                    message = self._outage.fail(exc, data, now)
                else:
                    message = self._outage.succeeded()
        if message is not None:  # outside the mutex: the reporter may log, even through us
            self._outage.report(message)

    def flush(self) -> None:
        """Nothing to do: every batch went to the kernel in its own ``os.write``."""

    def finish(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for compression in flight (at exit); False if it is still running."""
        return self._compressor.wait_idle(timeout)

    def close(self) -> None:
        """Close the files and wait for pending compression and retention; idempotent."""
        with self._mutex:
            self._closed = True
            self._close_fds()
        self._compressor.stop()

    # -- the locked write -------------------------------------------------------------------

    def _write_locked(self, data: bytes, now: float) -> None:
        """Take the lock, follow another process's rotation, rotate if due, append."""
        for _ in range(_LOCK_ATTEMPTS):
            if self._lock_fd < 0:
                self._open_lock(now)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                st = _stat_or_none(self._path_str)
                same = st is not None and self._fd >= 0 and (st.st_dev, st.st_ino) == self._ident
                if not (same and 0 <= now - self._lock_checked < _LOCK_CHECK_INTERVAL_S):
                    if _identity_at(self._lock_path) != self._lock_ident:
                        # The lock file was deleted or replaced (the directory removed, say):
                        # the other writers now lock the new one, so ours excludes nobody.
                        self._close_lock()
                        continue
                    self._lock_checked = now
                size = st.st_size if same and st is not None else self._reopen(now)
                if not self._swept_leftovers:  # once per process: what a killed process left behind
                    self._swept_leftovers = True
                    if _rotation.leftovers(self._path):
                        self._compressor.submit()
                if self._rotation_due(size, len(data), now):
                    self._rotate(now)
                    size = 0
                self._append(data, size)
                return
            finally:
                if self._lock_fd >= 0:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        raise OSError(errno.ESTALE, f"lock file {self._lock_path} keeps being replaced")

    def _open_lock(self, now: float) -> None:
        """Open (creating with its directory, if need be) the lock file beside the log."""
        _rotation.make_dirs(self._path.parent)
        flags = os.O_RDWR | os.O_CLOEXEC
        try:
            fd = os.open(self._lock_path, flags | os.O_CREAT | os.O_EXCL, _rotation.FILE_MODE)
            os.fchmod(fd, _rotation.FILE_MODE)
        except FileExistsError:
            fd = os.open(self._lock_path, flags)
        st = os.fstat(fd)
        self._lock_fd, self._lock_ident = fd, (st.st_dev, st.st_ino)
        self._lock_checked = now

    def _reopen(self, now: float) -> int:
        """Open the active file (creating it if missing) and learn its creation time; return its size."""
        self._close_active()
        _rotation.make_dirs(self._path.parent)
        fd = _rotation.open_append(self._path)
        st = os.fstat(fd)
        self._fd, self._ident = fd, (st.st_dev, st.st_ino)
        recorded = self._read_record()
        if recorded is not None and recorded[0] == self._ident:
            self._created_at = recorded[1]
        else:  # unknown to the record (first run, or created by someone else): count from now
            self._write_record(now)
        return st.st_size

    def _rotation_due(self, size: int, incoming: int, now: float) -> bool:
        """Tell whether the active file must be rotated before ``incoming`` bytes are appended."""
        aged = self._max_age_s is not None and now - self._created_at >= self._max_age_s
        if size == 0:
            if aged:  # an empty file is not worth a rotated file: restart its age instead
                self._write_record(now)
            return False
        return aged or (self._max_bytes > 0 and size + incoming > self._max_bytes)

    def _rotate(self, now: float) -> None:
        """Rename the active file once to its rotated name, start a new one, queue compression."""
        when = now
        newest = _rotation.newest_stamp(self._path)
        if newest is not None and newest > _rotation.format_stamp(now):
            when = _rotation.parse_stamp(newest) + 0.0005  # clock went back: keep names in order
        os.rename(self._path, _rotation.rotated_name(self._path, when))
        self._close_active()
        self._compressor.submit()
        self._reopen(now)

    def _append(self, data: bytes, size: int) -> None:
        """Write ``data`` whole; on failure cut the file back to ``size`` so no line is torn."""
        try:
            written = os.write(self._fd, data)
            if written < len(data):
                view = memoryview(data)[written:]
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):  # a device or a dead disk: nothing more to do
                os.ftruncate(self._fd, size)
            raise

    # -- the creation-time record in the lock file ------------------------------------------

    def _read_record(self) -> tuple[tuple[int, int], float] | None:
        """Read ``(identity, created_at)`` of the active file from the lock file, if well formed."""
        raw = os.pread(self._lock_fd, _RECORD_SIZE, 0)
        try:
            dev, ino, created = raw.split()
            return (int(dev), int(ino)), float(created)
        except ValueError:
            return None

    def _write_record(self, now: float) -> None:
        """Record that the active file (by identity) was created at ``now``."""
        self._created_at = now
        line = f"{self._ident[0]} {self._ident[1]} {now!r}\n".encode()
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, line, 0)

    # -- file descriptors -------------------------------------------------------------------

    def _close_active(self) -> None:
        """Close the active file's descriptor, if open."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            _close_quietly(fd)

    def _close_lock(self) -> None:
        """Close the lock file's descriptor, if open (which also drops its flock)."""
        if self._lock_fd >= 0:
            fd, self._lock_fd = self._lock_fd, -1
            _close_quietly(fd)

    def _close_fds(self) -> None:
        """Close both descriptors so the next write reopens them from the paths."""
        self._close_active()
        self._close_lock()

    def _after_fork_in_child(self) -> None:
        """In a forked child, drop inherited descriptors: a shared flock would exclude nobody."""
        self._mutex = threading.Lock()
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                _close_quietly(fd)  # closing a copy releases nothing the parent holds
        self._fd = self._lock_fd = -1
        self._compressor = self._compressor.fresh_copy()


def _check_limits(max_bytes: int, max_age_s: float | None, backup_count: int) -> None:
    """Reject limits that make no sense, naming the value and what is allowed."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"max_bytes={max_bytes!r}: expected an int >= 0 (0 turns size rotation off)")
    if max_age_s is not None and not max_age_s > 0:
        raise ValueError(f"max_age_s={max_age_s!r}: expected a number of seconds > 0, or None")
    if isinstance(backup_count, bool) or not isinstance(backup_count, int) or backup_count < 0:
        raise ValueError(f"backup_count={backup_count!r}: expected an int >= 0")


def _stat_or_none(path: str) -> os.stat_result | None:
    """Return the stat of ``path``, or None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _identity_at(path: Path) -> tuple[int, int] | None:
    """Return (device, inode) of the file at ``path``, or None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _close_quietly(fd: int) -> None:
    """Close ``fd``; a failing close of a log file has nothing left to tell."""
    with contextlib.suppress(OSError):
        os.close(fd)


_LIVE: weakref.WeakSet[RotatingFileOutput] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """Make every output of a forked child reopen its files instead of sharing the parent's lock."""
    for output in list(_LIVE):
        output._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
