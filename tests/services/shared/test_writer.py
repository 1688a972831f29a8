"""The writer thread: every queued line reaches its output in order, whole, by the time flush() returns."""

from __future__ import annotations

import gc
import io
import threading
from types import SimpleNamespace

import orjson

from crypto_observability.shared.logging_config import setup_service_logging
from crypto_observability.shared.metadata import Metadata
from crypto_observability.shared.redaction import Redactor
from crypto_observability.shared.render import Entry, RecordBuilder
from crypto_observability.shared.structured_logger import StructuredLogger, create_structured_logger
from crypto_observability.shared.testing import capture_logs
from crypto_observability.shared.writer import LogWriter


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.data += data
        self.writes += 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _writer(console: io.BytesIO | None = None) -> tuple[LogWriter, dict[str, _Buffer]]:
    files: dict[str, _Buffer] = {}

    def factory(service: str) -> _Buffer:
        return files.setdefault(service, _Buffer())

    builder = RecordBuilder(Metadata(None, None, "development"), Redactor(user_salt="s"), lambda: None)
    return LogWriter(builder, console=console, file_factory=factory), files


def _entry(service: str, i: int) -> Entry:
    return Entry(1736937000.0 + i / 1000, 20, service, "m", f"line {i}", {"i": i}, {})


def test_flush_returns_only_when_every_line_of_every_service_is_written() -> None:
    """Lines of two services, from several threads, all arrive in each thread's order before flush() returns."""
    console = io.BytesIO()
    writer, files = _writer(console)

    def produce(service: str) -> None:
        for i in range(20_000):
            writer.submit(_entry(service, i))

    threads = [threading.Thread(target=produce, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush()
    for name in ("a", "b"):
        lines = bytes(files[name].data).splitlines()
        assert list(range(20_000)) == [orjson.loads(line)["context"]["i"] for line in lines]
    assert 40_000 == len(console.getvalue().splitlines()) == writer.rendered
    writer.close()


def test_a_flush_with_nothing_queued_returns_at_once_and_writes_nothing() -> None:
    """An idle writer answers flush() without writing an empty batch to any output."""
    writer, files = _writer()
    assert writer.flush()
    assert files == {}
    writer.submit(_entry("a", 1))
    assert writer.flush() and writer.flush()
    assert files["a"].writes == 1
    writer.close()


def test_close_writes_what_is_queued_and_stops_the_thread() -> None:
    """close() drains the queue before the thread ends."""
    writer, files = _writer()
    for i in range(5_000):
        writer.submit(_entry("a", i))
    writer.close()
    assert len(bytes(files["a"].data).splitlines()) == 5_000


def test_close_writes_the_console_and_leaves_no_thread_behind() -> None:
    """close() writes what is queued for stdout too, then ends both threads (a re-setup must not pile them up)."""
    console = io.BytesIO()
    writer, _ = _writer(console)
    for i in range(100):
        writer.submit(_entry("a", i))
    writer.close()
    alive = [t for t in threading.enumerate() if t.name in ("log-writer", "log-console")]
    for thread in alive:
        thread.join(5)
    assert len(console.getvalue().splitlines()) == 100
    assert [t.name for t in alive if t.is_alive()] == []


def test_a_plain_event_queues_a_tuple_the_gc_can_untrack() -> None:
    """The hot path queues context beside a tuple of plain values: a backlog never reaches the old GC generations."""
    queued: list[tuple[object, object]] = []
    pipeline = SimpleNamespace(submit=lambda entry, context=None: queued.append((entry, context)),
                               settings=SimpleNamespace(level=10))
    slog = StructuredLogger("market-data", "oi", pipeline)
    slog.info("done", symbol="BTC-USDT", n=6)
    slog.debug("done", symbol="BTC-USDT")
    slog.warning("done", ms=1.5)
    gc.collect()
    for entry, context in queued:
        assert isinstance(context, dict)
        assert not gc.is_tracked(entry)
    assert [c for _, c in queued] == [{"symbol": "BTC-USDT", "n": 6}, {"symbol": "BTC-USDT"}, {"ms": 1.5}]


class _Gate:
    """A value whose rendering (on the writer thread) waits until the test opens the gate."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def __str__(self) -> str:
        self.open.wait(30)
        return "gate"


def test_a_record_shows_values_as_they_were_at_the_call() -> None:
    """Containers changed after the call (extra={'context': d}, a keyword list, nested dicts) are logged as
    they were when logged, on both roads."""
    gate = _Gate()
    with capture_logs() as logs:
        slog = create_structured_logger("market-data", "snapshot")
        stdlib = setup_service_logging("market-data", "snapshot_stdlib")
        slog.info("hold the writer", gate=gate)  # the writer renders this last record only once the gate opens
        state, prices, nested = {"state": "before"}, [1, 2], {"inner": {"n": 1}}
        for _ in range(200):
            stdlib.info("x", extra={"context": state})
            slog.info("y", v=prices, nested=nested)
        state["state"], nested["inner"]["n"] = "after", 2
        prices.append(3)
        gate.open.set()
        records = logs.records[1:]
    assert {orjson.dumps(r["context"]) for r in records if r["message"] == "x"} == {b'{"state":"before"}'}
    assert {orjson.dumps(r["context"]) for r in records if r["message"] == "y"} == {
        b'{"v":[1,2],"nested":{"inner":{"n":1}}}'}
    assert len(records) == 400
