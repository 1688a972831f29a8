"""One `run` per state database: an exclusive lock held for the life of the monitor, naming its holder's PID."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from crypto_observability.log_monitor.errors import StateError
from crypto_observability.log_monitor.store import private_directory


class StateLock:
    """flock on `<state_db>.lock`; the file holds the PID of the process that has it.

    The kernel drops the lock when the holder dies (even by kill -9), so a stale file never blocks a restart.
    """

    def __init__(self, state_db: str) -> None:
        self.path = state_db + ".lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StateError naming the PID that holds it."""
        try:
            private_directory(Path(self.path))  # taken before the store exists: a first run makes the directory
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as exc:
            raise StateError(f"cannot open the state lock {self.path!r}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StateError(
                f"another log-monitor (pid {holder}) is running on this state database "
                f"({self.path.removesuffix('.lock')}); stop it first, or give this one its own state_db"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Give the lock up (closing the descriptor releases it)."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.close(self.fd)
            self.fd = None
