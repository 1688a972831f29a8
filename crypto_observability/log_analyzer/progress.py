"""Progress within a file: the share of its statement DuckDB says it has done, reported as bytes of the file.

A big file is read by one statement that runs for seconds or minutes; reporting only when it ends
leaves a progress bar at 0 until it jumps to done. DuckDB tells how far a cursor's running statement
is (``query_progress()``: a percentage, -1 between statements), asked from another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from types import TracebackType

import duckdb

Progress = Callable[[int], None]  # called with each advance in bytes, from the threads reading the files
POLL_SECONDS = 0.1  # ten redraws a second; DuckDB's share moves once per JSON buffer (32 MiB) anyway
POLLED_AT_MOST = 0.99  # of a file's bytes before its work is done: a file completes only when it is done
THREAD_NAME = "log-analyzer-progress"


class ReadProgress:
    """Counts the bytes reported per file, so each file adds exactly its size to ``advance``, never more.

    A file read twice (a cache write that failed, then a plain parse) resumes from what was reported.
    ``advance`` is called from several threads at once (one per file being read).
    """

    def __init__(self, advance: Progress) -> None:
        self._advance = advance
        self._reported: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def reach(self, file: Hashable, upto: int) -> None:
        """Report ``file`` read up to byte ``upto`` (nothing if it was reported that far already)."""
        with self._lock:
            before = self._reported.get(file, 0)
            if upto <= before:
                return
            self._reported[file] = upto
        self._advance(upto - before)

    def watch(self, cursor: duckdb.DuckDBPyConnection, file: Hashable, size: int) -> FileProgress:
        """Return a block that reports ``file`` (``size`` bytes) as ``cursor`` reads it, and all of it at the end."""
        return FileProgress(self, cursor, file, size)


class FileProgress:
    """Inside the block a thread polls the cursor and reports the largest share seen so far, as bytes.

    Leaving the block stops and joins the thread, then (unless the block failed) reports the rest of the
    file: the update that completes a file is its last one.
    """

    def __init__(self, read: ReadProgress, cursor: duckdb.DuckDBPyConnection, file: Hashable, size: int) -> None:
        self._read, self._cursor, self._file, self._size = read, cursor, file, size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=THREAD_NAME, daemon=True)

    def __enter__(self) -> FileProgress:
        self._cursor.execute("SET enable_progress_bar = true")  # on this cursor only: measured, never printed
        self._cursor.execute("SET enable_progress_bar_print = false")
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        if kind is None:
            self._read.reach(self._file, self._size)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                share = self._cursor.query_progress() / 100.0
            except duckdb.Error:  # the bar is a courtesy: it never breaks the read it watches
                return
            if share > 0:
                self._read.reach(self._file, int(self._size * min(share, POLLED_AT_MOST)))
