"""The read progress a user watches on one big file: it moves within the file, never back, and ends at its size."""

from __future__ import annotations

import gzip
import io
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import orjson
import pytest

from crypto_observability.log_analyzer import cli, progress
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.progress import THREAD_NAME, ReadProgress

BIG_BYTES = 192 << 20  # six of DuckDB's 32 MiB JSON buffers: its share of the statement moves once per buffer


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One market-data-and-bot log file of about 200 MB (generated records, repeated)."""
    from benchmarks.record_generator import generate_records

    block = b"".join(orjson.dumps(record) + b"\n" for record in generate_records(20_000, seed=3))
    path = tmp_path_factory.mktemp("big") / "app.log"
    with path.open("wb") as out:
        for _ in range(-(-BIG_BYTES // len(block))):
            out.write(block)
    yield path
    path.unlink()  # pytest keeps the last runs' temporary directories: not 200 MB each


class _Recorder:
    """Collects the advances a progress bar would get, from whichever thread reports them."""

    def __init__(self) -> None:
        self.advances: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, advance: int) -> None:
        with self._lock:
            self.advances.append(advance)


def _pollers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_one_big_file_reports_progress_while_it_is_read(big_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading one big file advances the bar several times before it is done, forward only, to exactly its size."""
    monkeypatch.setattr(progress, "POLL_SECONDS", 0.01)  # sample often: DuckDB's share moves once per buffer
    recorder = _Recorder()
    ds = load([str(big_log)], progress=recorder)
    try:
        assert ds.scalar("SELECT count(*) FROM records") > 0
    finally:
        ds.close()
    assert all(advance > 0 for advance in recorder.advances)  # monotonic
    assert sum(recorder.advances) == big_log.stat().st_size
    assert len(recorder.advances) >= 3  # at least two updates inside the file, then the one that completes it
    assert _pollers() == []  # every poller was joined before load returned: no update can follow


def test_rotated_files_count_once_through_the_cache(tmp_path: Path) -> None:
    """A rotated file written to the cache, then read from it, advances the bar by exactly its size each load."""
    from benchmarks.record_generator import generate_records

    rotated = tmp_path / "logs" / "market-data.log.20250115T000000.000Z.gz"
    rotated.parent.mkdir()
    with gzip.open(rotated, "wb") as out:
        out.writelines(orjson.dumps(record) + b"\n" for record in generate_records(2000, seed=5))
    for _ in range(2):  # the first load converts into the cache, the second attaches the cached database
        recorder = _Recorder()
        load([str(rotated.parent)], cache_dir=tmp_path / "cache", progress=recorder).close()
        assert all(advance > 0 for advance in recorder.advances)
        assert sum(recorder.advances) == rotated.stat().st_size


def test_a_file_read_again_is_not_counted_again() -> None:
    """A file whose first read failed (an unwritable cache) resumes its bytes on the second read, never doubles them."""
    recorder = _Recorder()
    read = ReadProgress(recorder)
    read.reach("a.log", 60)
    read.reach("a.log", 40)  # a second statement starts again from 0 %: the bar does not move back
    read.reach("a.log", 100)
    read.reach("a.log", 100)
    assert recorder.advances == [60, 40]


def test_a_failed_read_does_not_complete_its_file() -> None:
    """A block that fails reports no remainder: the file is complete only when its read is."""
    import duckdb

    recorder = _Recorder()
    read = ReadProgress(recorder)
    con = duckdb.connect()
    with pytest.raises(RuntimeError), read.watch(con.cursor(), "a.log", 100):
        raise RuntimeError("cache directory is read-only")
    assert recorder.advances == []
    con.close()


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_a_pipe_gets_no_bar(big_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With stderr not a terminal no bar is drawn (nor DuckDB polled), however big the input."""
    assert big_log.stat().st_size >= cli.PROGRESS_BYTES
    for terminal, expected in ((False, False), (True, True)):
        monkeypatch.setattr("sys.stderr", _Stream(terminal))
        with ExitStack() as stack:
            assert (cli._progress((str(big_log),), stack) is not None) is expected

