"""Background compression and retention of rotated log files, kept off the writer's path.

Gzipping a 50 MB file takes a good part of a second; the writer thread must not wait for it,
and no process must hold the shared lock meanwhile. One daemon thread per output sweeps the
directory: compress every rotated file still plain, then delete those beyond retention.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from crypto_observability.shared import _rotation


class Compressor:
    """Run compress-then-prune sweeps in a lazily started background thread."""

    def __init__(self, path: Path, backup_count: int, compress: bool, report: Callable[[str], None]) -> None:
        """Remember what to sweep; no thread starts until the first rotation."""
        self._path = path
        self._backup_count = backup_count
        self._compress = compress
        self._report = report
        self._wake = threading.Condition()
        self._pending = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failing = False
        self._sweeping = False

    def submit(self) -> None:
        """Ask for a sweep soon; several requests before it runs make one sweep."""
        with self._wake:
            self._pending = True
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="log-compressor", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def stop(self) -> None:
        """Finish any requested sweep, then end the thread; idempotent."""
        with self._wake:
            self._stopping = True
            thread = self._thread
            self._wake.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        elif self._pending:
            self.sweep()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until no sweep is pending or running; True when idle."""
        with self._wake:
            return self._wake.wait_for(lambda: not (self._pending or self._sweeping) or self._thread is None,
                                       timeout)

    def fresh_copy(self) -> Compressor:
        """Return an idle twin for a forked child, where the parent's thread does not exist."""
        return Compressor(self._path, self._backup_count, self._compress, self._report)

    def sweep(self) -> None:
        """Compress the plain rotated files, then apply retention; report the first failure."""
        self._pending = False
        try:
            _rotation.prune(self._path, self._backup_count)  # never gzip what retention drops
            _rotation.remove_stale_scratch(self._path)
            if self._compress:
                for item in _rotation.uncompressed(self._path):
                    _rotation.compress(item)
                _rotation.prune(self._path, self._backup_count)
        except Exception as exc:  # a background thread has nobody to raise to
            if not self._failing:
                self._failing = True
                self._report(f"log file {self._path}: compression or retention failed ({exc!r})")
            return
        if self._failing:
            self._failing = False
            self._report(f"log file {self._path}: compression and retention work again")

    def _run(self) -> None:
        """Sweep whenever asked, until stopped with nothing pending."""
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if not self._pending:
                    return
                self._pending = False
                self._sweeping = True
            try:
                self.sweep()
            finally:
                with self._wake:
                    self._sweeping = False
                    self._wake.notify_all()
