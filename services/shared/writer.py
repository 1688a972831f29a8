"""The writer thread: renders queued entries and writes them to stdout and per-service files.

Callers only append a tuple to a deque; rendering, redaction and I/O happen here, in batches,
so a log call costs the service microseconds. flush() waits until everything queued before
it is written, which logging.shutdown(), atexit and SIGTERM rely on.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from .console import render_console
from .render import LINE_OPTIONS, Entry, RecordBuilder, dumps

BATCH = 2048
LINGER_S = 0.02  # after a batch, let lines gather this long: fewer wake-ups, less GIL ping-pong


class LineOutput(Protocol):
    """Where a batch of rendered lines goes (a rotating file, a test buffer)."""

    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class _Flush:
    """A marker that wakes its waiter once everything queued before it is written."""

    def __init__(self) -> None:
        self.done = threading.Event()


class Reporter:
    """Says each distinct problem once on stderr, and says when it is over."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream
        self._said: set[str] = set()

    def problem(self, key: str, text: str) -> None:
        """Report a problem unless it was already reported."""
        if key not in self._said:
            self._said.add(key)
            self._write(f"logging: {text}\n")

    def recovered(self, key: str, text: str) -> None:
        """Report that a reported problem has cleared."""
        if key in self._said:
            self._said.discard(key)
            self._write(f"logging: {text}\n")

    def _write(self, text: str) -> None:
        try:
            stream = self._stream or sys.__stderr__
            if stream is not None:
                stream.write(text)
                stream.flush()
        except Exception:
            pass


class LogWriter:
    """Owns the queue and the thread; outputs are per service, created on first use."""

    def __init__(
        self,
        builder: RecordBuilder,
        *,
        console: BinaryIO | None,
        console_format: str = "json",
        file_factory: Callable[[str], LineOutput] | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self._builder = builder
        self._console = console
        self._console_format = console_format
        self._colour = console_format == "console" and bool(getattr(console, "isatty", lambda: False)())
        self._file_factory = file_factory
        self._files: dict[str, LineOutput | None] = {}
        self.reporter = reporter or Reporter()
        self.rendered = 0
        # Pairs (entry, context): a queued tuple holding a dict is never untracked by the GC, so a
        # burst's backlog would survive into the oldest generation and set off full collections of
        # the whole heap; a tuple of plain values beside its context dict is untracked at once.
        self._pending: deque[Any] = deque()
        self._idle = [False]  # True while the thread sleeps with nothing to do: only then is a wake-up needed
        self.submit: Callable[..., None] = self._make_submit()  # the caller's whole cost
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _make_submit(self) -> Callable[..., None]:
        extend, idle = self._pending.extend, self._idle

        def submit(entry: Entry | tuple[Any, ...], context: Mapping[str, Any] | None = None) -> None:
            """Queue an entry (a tuple in Entry's order); context, when given, stands for its own."""
            extend((entry, context))  # one atomic step under the GIL; the thread drains in batches
            if idle[0]:
                self._wake.set()

        return submit

    def _start(self) -> None:
        self._pending.clear()  # in a forked child: the parent's backlog is the parent's to write
        self._idle[0] = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every entry queued so far is written; False on timeout."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return False
        marker = _Flush()
        self._pending.extend((marker, None))
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the thread and close the files."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._pending.extend((None, None))
            self._wake.set()
            self._thread.join(timeout)
        for output in self._files.values():
            if output is not None:
                output.close()
        self._files.clear()

    def _run(self) -> None:
        pending, popleft, idle, wake = self._pending, self._pending.popleft, self._idle, self._wake
        while True:
            if not pending:
                idle[0] = True
                if not pending:  # checked again with the flag up, so a submit in between is not missed
                    wake.wait()
                idle[0] = False
                wake.clear()
            count = min(len(pending) // 2, BATCH)
            if self._write_batch([popleft() for _ in range(2 * count)]):
                return
            if count < BATCH and wake.wait(LINGER_S):
                wake.clear()

    def _write_batch(self, batch: list[Any]) -> bool:
        # Lines go straight into one buffer per output: holding thousands of separate line
        # objects until a join costs more in allocator churn than rendering them (~2 µs a line).
        per_service: dict[str, io.BytesIO] = {}
        console = io.BytesIO() if self._console is not None else None
        as_text = self._console_format == "console"
        build, colour, orjson_dumps = self._builder.build, self._colour, orjson.dumps
        markers: list[_Flush] = []
        stop = False
        rendered = 0
        pairs = iter(batch)
        for item, context in zip(pairs, pairs, strict=True):
            if item is None:
                stop = True
                continue
            if item.__class__ is _Flush:
                markers.append(item)
                continue
            try:
                record = build(item, context)
                try:
                    line = orjson_dumps(record, option=LINE_OPTIONS)  # the common case, without dumps()'s frame
                except (TypeError, orjson.JSONEncodeError):
                    line = dumps(record)  # odd values: fallbacks and degradation
            except Exception as exc:  # never lose the thread over one record
                self.reporter.problem(f"render:{type(exc).__name__}", f"a record could not be rendered: {exc!r}")
                continue
            rendered += 1
            service = item[2]  # the entry's service
            out = per_service.get(service)
            if out is None:
                out = per_service[service] = io.BytesIO()
            out.write(line)
            if console is not None:
                console.write(render_console(record, colour) if as_text else line)
        self.rendered += rendered
        self._emit(per_service, console)
        for marker in markers:
            marker.done.set()
        return stop

    def _emit(self, per_service: dict[str, io.BytesIO], console: io.BytesIO | None) -> None:
        data = console.getvalue() if console is not None else b""
        if data and self._console is not None:
            try:
                self._console.write(data)
                self._console.flush()
                self.reporter.recovered("console", "stdout is writable again")
            except Exception as exc:
                self.reporter.problem("console", f"cannot write to stdout ({exc!r}); lines still go to files")
        if self._file_factory is None:
            return
        for service, lines in per_service.items():
            output = self._output(service)
            if output is not None:
                output.write(lines.getvalue())

    def _output(self, service: str) -> LineOutput | None:
        if service not in self._files:
            try:
                self._files[service] = self._file_factory(service) if self._file_factory else None
            except Exception as exc:
                self.reporter.problem(f"file:{service}", f"cannot open the log file of {service}: {exc!r}")
                return None
        return self._files[service]


def file_factory_for(log_dir: Path, **rotation: Any) -> Callable[[str], LineOutput]:
    """Return a factory making $LOG_DIR/<service>.log rotating outputs."""
    from .file_output import RotatingFileOutput

    def make(service: str) -> LineOutput:
        return RotatingFileOutput(log_dir / f"{service}.log", **rotation)

    return make
