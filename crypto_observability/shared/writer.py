"""The writer thread: renders queued entries and writes them to stdout and per-service files.

Callers only append a tuple to a deque; rendering, redaction and I/O happen here, in batches,
so a log call costs the service microseconds. flush() waits until everything queued before
it is written, which logging.shutdown(), atexit and SIGTERM rely on.
"""

from __future__ import annotations

import datetime
import decimal
import io
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from .console import is_terminal, render_console
from .render import LINE_OPTIONS, Entry, RecordBuilder, dumps

BATCH = 2048
CONSOLE_BACKLOG_BYTES = 4 * 1024 * 1024  # what may wait for a slow stdout before console lines are dropped
CONSOLE_FLUSH_S = 1.0  # how long a flush waits for stdout (the files are already written by then)
LINGER_S = 0.02  # after a batch, let lines gather this long: fewer wake-ups, less GIL ping-pong


class LineOutput(Protocol):
    """Where a batch of rendered lines goes (a rotating file, a test buffer)."""

    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, decimal.Decimal, uuid.UUID, datetime.datetime,
                        datetime.date, datetime.time, datetime.timedelta})
_SNAPSHOT_DEPTH = 24


def snapshot(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the context as it is now: containers copied (at any depth), immutable values shared."""
    return {key: _frozen(value, 0) for key, value in context.items()}


def _frozen(value: Any, depth: int) -> Any:
    """value as it is now: immutable values as they are, containers copied, other objects as they are."""
    cls = value.__class__
    if cls in _IMMUTABLE:
        return value
    if depth >= _SNAPSHOT_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: _frozen(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, deque)):
        items = [_frozen(item, depth + 1) for item in value]
        return tuple(items) if cls is tuple else items
    if isinstance(value, bytearray):
        return bytes(value)
    return value


class _Flush:
    """A marker that wakes its waiter once everything queued before it is written."""

    def __init__(self) -> None:
        self.done = threading.Event()


_REPORT_AT = frozenset((1, 10, 100, 1000, 10_000))


class Reporter:
    """Says each distinct problem once on stderr, and says when it is over; counts recurring ones by cause."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream
        self._said: set[str] = set()
        self._counts: dict[str, int] = {}

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

    def count(self, cause: str, text: str) -> None:
        """Count a recurring problem by cause; say it the 1st, 10th, 100th, ... time, with the count."""
        seen = self._counts[cause] = self._counts.get(cause, 0) + 1
        if seen in _REPORT_AT or seen % 100_000 == 0:
            self._write(f"logging: {text} [{cause}: {seen} so far]\n")

    def say(self, text: str) -> None:
        """Report a message as it is (its sender already decided it is worth saying)."""
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
        self.reporter = reporter or Reporter()
        self._console = ConsoleSink(console, self.reporter) if console is not None else None
        self._console_format = console_format
        self._colour = console_format == "console" and is_terminal(console)
        self._file_factory = file_factory
        self._files: dict[str, LineOutput | None] = {}
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
        extend, idle, plain = self._pending.extend, self._idle, _IMMUTABLE

        def submit(entry: Entry | tuple[Any, ...], context: Mapping[str, Any] | None = None) -> None:
            """Queue an entry (a tuple in Entry's order); context, when given, stands for its own.

            The record is of the moment of the call: a context holding a container is snapshotted here,
            on the caller's side (a context of plain values, the usual case, passes as it is).
            """
            if context is not None:
                for value in context.values():
                    if value.__class__ not in plain:
                        context = snapshot(context)
                        break
            extend((entry, context))  # one atomic step under the GIL; the thread drains in batches
            if idle[0]:
                self._wake.set()

        return submit

    def _start(self) -> None:
        self._pending.clear()  # in a forked child: the parent's backlog is the parent's to write
        self._idle[0] = False
        if self._console is not None:
            self._console.start()
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
        done = marker.done.wait(timeout)
        if self._console is not None:  # a console that does not drain must not hold up exit
            self._console.drain(min(timeout, CONSOLE_FLUSH_S))
        return done

    def finish(self, timeout: float) -> None:
        """Let the outputs finish background work in flight (compression), within ``timeout`` s in all."""
        deadline = time.monotonic() + timeout
        for output in list(self._files.values()):
            finish = getattr(output, "finish", None)
            if finish is not None:
                finish(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the thread and close the files."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._pending.extend((None, None))
            self._wake.set()
            self._thread.join(timeout)
        if self._console is not None:
            self._console.drain(CONSOLE_FLUSH_S)
            self._console.stop()
        for output in self._files.values():
            if output is not None:
                output.close()
        self._files.clear()

    def _run(self) -> None:
        """Drain the queue until stopped; anything unforeseen restarts the loop, said once."""
        while True:
            try:
                self._drain()
                return
            except Exception as exc:
                self.reporter.problem("writer", f"the writer thread failed ({exc!r}) and was restarted")

    def _drain(self) -> None:
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
        build, orjson_dumps = self._builder.build, orjson.dumps
        markers: list[_Flush] = []
        stop = False
        rendered = 0
        pairs = iter(batch)
        try:
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
                    self.reporter.count(f"render: {type(exc).__name__}", f"a record could not be rendered: {exc!r}")
                    continue
                rendered += 1
                service = item[2]  # the entry's service
                out = per_service.get(service)
                if out is None:
                    out = per_service[service] = io.BytesIO()
                out.write(line)
                if console is not None:
                    console.write(self._console_line(record, line) if as_text else line)
            self.rendered += rendered
            self._emit(per_service, console)
        finally:  # whatever happened, nobody waits for a batch that is over
            for marker in markers:
                marker.done.set()
        return stop

    def _console_line(self, record: dict[str, Any], line: bytes) -> bytes:
        """The readable rendering; the JSON line when a value cannot be shown (its repr raises, say)."""
        try:
            return render_console(record, self._colour)
        except Exception as exc:
            self.reporter.count(f"console rendering: {type(exc).__name__}",
                                f"a record was shown as JSON on stdout: {exc!r}")
            return line

    def _emit(self, per_service: dict[str, io.BytesIO], console: io.BytesIO | None) -> None:
        if self._file_factory is not None:  # files first: they are the record; stdout is best effort
            for service, lines in per_service.items():
                output = self._output(service)
                if output is not None:
                    output.write(lines.getvalue())
        data = console.getvalue() if console is not None else b""
        if data and self._console is not None:
            self._console.put(data)

    def _output(self, service: str) -> LineOutput | None:
        if service not in self._files:
            try:
                self._files[service] = self._file_factory(service) if self._file_factory else None
            except Exception as exc:
                self.reporter.problem(f"file:{service}", f"cannot open the log file of {service}: {exc!r}")
                return None
        return self._files[service]


class ConsoleSink:
    """Writes to stdout from its own thread with a bounded backlog: a console that stops draining
    (a Docker log driver under pressure, a stuck pipe) costs console lines, counted, never the files."""

    def __init__(self, stream: Any, reporter: Reporter, max_backlog: int = CONSOLE_BACKLOG_BYTES) -> None:
        self._stream = stream
        self._reporter = reporter
        self._max_backlog = max_backlog
        self.dropped = 0  # console lines dropped since the backlog last overflowed

    def start(self) -> None:
        """Start (or, in a forked child, restart) the thread with an empty backlog."""
        self._queue: deque[bytes] = deque()
        self._backlog = 0
        self._stopping = False
        self._cond = threading.Condition()
        threading.Thread(target=self._run, name="log-console", daemon=True).start()

    def stop(self) -> None:
        """End the thread once what is queued is written (a stuck stdout keeps it, a daemon, until exit)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def put(self, data: bytes) -> None:
        """Queue lines for stdout, or drop and count them when the backlog is full."""
        with self._cond:
            if self._backlog + len(data) > self._max_backlog:
                if not self.dropped:
                    self._reporter.say("stdout is not being read; dropping console lines (files are unaffected)")
                self.dropped += data.count(b"\n")
                return
            self._queue.append(data)
            self._backlog += len(data)
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued reached stdout; False after timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._backlog == 0, timeout)

    def _run(self) -> None:
        cond, queue = self._cond, self._queue
        while True:
            with cond:
                cond.wait_for(lambda: bool(queue) or self._stopping)
                if not queue:
                    return
                data = b"".join(queue)
                queue.clear()
            try:
                self._stream.write(data)
                self._stream.flush()
                self._reporter.recovered("console", "stdout is writable again")
            except Exception as exc:
                self._reporter.problem("console", f"cannot write to stdout ({exc!r}); lines still go to files")
            with cond:
                self._backlog -= len(data)
                if self.dropped and not queue:
                    self._reporter.say(f"stdout is read again; {self.dropped} console lines were dropped meanwhile")
                    self.dropped = 0
                cond.notify_all()


def file_factory_for(log_dir: Path, **rotation: Any) -> Callable[[str], LineOutput]:
    """Return a factory making $LOG_DIR/<service>.log rotating outputs."""
    from .file_output import RotatingFileOutput

    def make(service: str) -> LineOutput:
        return RotatingFileOutput(log_dir / f"{service}.log", **rotation)

    return make
