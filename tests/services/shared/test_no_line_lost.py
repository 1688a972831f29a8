"""Never lose a line that could have been kept: slow stdout, odd arguments, huge numbers, bad code points,
disk outages, forked children, SIGTERM off the main thread, the exception that ends a process, exit mid-gzip."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from crypto_observability.shared import _rotation
from crypto_observability.shared.file_output import RotatingFileOutput
from crypto_observability.shared.logging_config import ensure_pipeline, setup_service_logging, shutdown_logging
from crypto_observability.shared.metadata import Metadata
from crypto_observability.shared.redaction import Redactor
from crypto_observability.shared.render import Entry, RecordBuilder
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import FakeClock, capture_logs
from crypto_observability.shared.writer import LogWriter, Reporter

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str, log_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "LOG_DIR": str(log_dir), "LOG_CONSOLE": "false", "MONITORING_ENABLED": "false",
                "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def _records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


class _StuckStdout:
    """A stdout nobody reads: write() blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, data: bytes) -> None:
        self.release.wait(60)

    def flush(self) -> None:
        pass


class _Lines:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_stdout_nobody_reads_never_stalls_the_file() -> None:
    """With stdout stuck, all 50,000 lines reach the file, flush returns, and the console drops are counted."""
    stdout, output, said = _StuckStdout(), _Lines(), io.StringIO()
    builder = RecordBuilder(Metadata(None, None, "development"), Redactor(user_salt="s"), lambda: None)
    writer = LogWriter(builder, console=stdout, file_factory=lambda _: output, reporter=Reporter(said))
    try:
        for i in range(50_000):
            writer.submit(Entry(1736937000.0, 20, "svc", "m", "tick", {"i": i}, {}))
        assert writer.flush(30)
        assert bytes(output.data).count(b"\n") == 50_000
        assert "stdout is not being read" in said.getvalue()
    finally:
        stdout.release.set()
        writer.close()
    assert "console lines were dropped meanwhile" in said.getvalue()


class _BadStr:
    def __str__(self) -> str:
        raise ValueError("no text for you")

    def __repr__(self) -> str:
        return "<BadStr>"


@contextmanager
def _without_pytest_log_capture() -> Iterator[None]:
    """pytest's own capture handler re-raises formatting errors; take it off the root logger meanwhile."""
    root = logging.getLogger()
    theirs = [h for h in root.handlers if type(h).__module__.startswith("_pytest")]
    for handler in theirs:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in theirs:
            root.addHandler(handler)


def test_records_with_bad_arguments_are_logged_raw_and_reported_by_cause_with_counts() -> None:
    """Bad %-arguments or an argument whose __str__ raises: the raw message and the args' reprs are logged;
    stderr counts the cause (1st, 10th, ...), not once per process."""
    said = io.StringIO()
    shutdown_logging()
    ensure_pipeline(LogSettings(monitoring=False, file=False), console=io.BytesIO(), reporter=Reporter(said))
    logger = setup_service_logging("market-data", "args")
    with _without_pytest_log_capture():
        logger.info("price %d for %s", "not a number")
        logger.warning("value %s", _BadStr())
        for _ in range(8):
            logger.info("%s %s", 1)
    shutdown_logging()
    lines = said.getvalue().splitlines()
    assert [line.rsplit(" ", 3)[-3:] for line in lines] == [["1", "so", "far]"], ["10", "so", "far]"]]
    with capture_logs() as logs, _without_pytest_log_capture():
        setup_service_logging("market-data", "args").info("price %d for %s", "not a number")
        setup_service_logging("market-data", "args").warning("value %s", _BadStr())
    first, second = logs.records
    assert first["message"] == "price %d for %s" and first["context"]["log_args"] == ["'not a number'"]
    assert second["message"] == "value %s" and second["context"]["log_args"] == ["<BadStr>"]
    assert second["context"]["log_args_error"].startswith("ValueError")


def test_huge_integers_and_lone_surrogates_keep_the_rest_of_the_record() -> None:
    """A wei amount above 2**64 is written (as a decimal string) and a lone surrogate becomes U+FFFD;
    every other field stays."""
    with capture_logs() as logs:
        slog = create_structured_logger("market-data", "chain")
        slog.info("transfer", wei=10**30, gas=21000, symbol="ETH")
        slog.info("bad \ud800 text", note="a\udfffb", symbol="BTC")
    wei, text = logs.records
    assert wei["context"] == {"wei": str(10**30), "gas": 21000, "symbol": "ETH"}
    assert (text["message"], text["context"]) == ("bad \ufffd text", {"note": "a\ufffdb", "symbol": "BTC"})


def test_a_debug_event_is_not_written_at_info_whatever_road_it_takes() -> None:
    """StructuredLogger.log(DEBUG, ...) (BotLogger's road) honours LOG_LEVEL=INFO like debug() does."""
    from services.telegram_bot.bot_logger import BotLogger

    with capture_logs("INFO") as logs:
        slog = create_structured_logger("telegram-bot", "bot_logger")
        slog.log(logging.DEBUG, "direct", {})
        bot = BotLogger(slog)
        bot.market_data_request("price", "BTC", "r-1")
        bot.user_authorization("price", True, user_id=100001)
        bot.command_received("price", [], user_id=100001)
    assert [r["level"] for r in logs.records] == ["INFO"]


def test_every_disk_full_outage_is_reported_and_lines_of_the_retry_window_are_kept(tmp_path: Path) -> None:
    """Two outages with the same error are both reported when they start; lines logged while waiting
    to retry are written once the disk takes them again."""
    log = tmp_path / "svc.log"
    clock, said = FakeClock(), io.StringIO()
    reporter = Reporter(said)
    out = RotatingFileOutput(log, clock=clock, on_error=reporter.say)
    saved = tmp_path / "saved"
    for outage in range(2):
        if log.exists():
            log.rename(saved)
        log.symlink_to("/dev/full")
        out.write(f"lost {outage}\n".encode())
        log.unlink()
        if saved.exists():
            saved.rename(log)
        clock.advance(0.5)  # space is back, but the next retry is not due yet
        out.write(f"kept {outage}\n".encode())
        clock.advance(1.0)
        out.write(f"after {outage}\n".encode())
    out.close()
    assert log.read_bytes() == b"kept 0\nafter 0\nkept 1\nafter 1\n"
    assert said.getvalue().count("No space left on device") >= 2
    assert said.getvalue().count("cannot write") == 2


def test_compression_left_by_a_killed_process_is_finished_at_the_next_start(tmp_path: Path) -> None:
    """A plain rotated file and a stale .gz.tmp (its source gone) are handled on the first write, not at
    the next rotation."""
    log = tmp_path / "svc.log"
    plain = tmp_path / "svc.log.20250115T103000.000Z"
    plain.write_bytes(b"old line\n")
    (tmp_path / "svc.log.20250114T103000.000Z.gz.tmp").write_bytes(b"\x1f\x8b partial")
    out = RotatingFileOutput(log)
    out.write(b"new line\n")
    assert out.finish(30)
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    out.close()
    assert names == ["svc.log", "svc.log.20250115T103000.000Z.gz"]
    assert _rotation.read_lines(log) == [b"old line\n", b"new line\n"]


def test_compression_in_flight_at_exit_is_finished(tmp_path: Path) -> None:
    """A process that rotates and exits at once leaves every rotated file compressed, no scratch file."""
    done = _run("""
        from crypto_observability.shared.structured_logger import create_structured_logger
        slog = create_structured_logger("market-data", "bulk")
        for i in range(20_000):
            slog.info("tick " + "x" * 200, seq=i)
    """, tmp_path, LOG_MAX_BYTES="1MB")
    assert done.returncode == 0, done.stderr
    rotated = _rotation.list_rotated(tmp_path / "market-data.log")
    assert rotated and all(p.name.endswith(".gz") for p in rotated)
    assert not list(tmp_path.glob("*.tmp"))
    assert len(_rotation.read_lines(tmp_path / "market-data.log")) == 20_000


CHILDREN = """
    import multiprocessing, os, sys
    from crypto_observability.shared.structured_logger import create_structured_logger

    def work(worker):
        slog = create_structured_logger("market-data", "worker")
        for seq in range(2000):
            slog.info("tick", worker=worker, seq=seq)
        return worker

    def gunicorn_worker(worker):  # gunicorn's Arbiter.spawn_worker: fork, run, sys.exit, log in finally
        pid = os.fork()
        if pid:
            return pid
        try:
            work(worker)
            sys.exit(0)
        finally:
            create_structured_logger("market-data", "worker").info("Worker exiting", worker=worker, seq=-1)

    if __name__ == "__main__":
        create_structured_logger("market-data", "main").info("parent", worker=0, seq=0)
        mode = sys.argv[1]
        if mode == "gunicorn":
            for pid in [gunicorn_worker(n) for n in (1, 2)]:
                os.waitpid(pid, 0)
        elif mode.startswith("pool-"):
            pool = multiprocessing.get_context(mode[5:]).Pool(2)
            pool.map(work, [1, 2, 3, 4])
            pool.close()
            pool.join()
        else:
            context = multiprocessing.get_context(mode)
            children = [context.Process(target=work, args=(n,)) for n in (1, 2)]
            for child in children:
                child.start()
            for child in children:
                child.join()
"""


@pytest.mark.parametrize(("mode", "workers"), [("fork", 2), ("forkserver", 2), ("pool-fork", 4), ("gunicorn", 2)])
def test_children_that_end_with_os_exit_write_every_line(tmp_path: Path, mode: str, workers: int) -> None:
    """fork, forkserver and Pool children (which end with os._exit) and gunicorn-style workers lose nothing."""
    script = tmp_path / "children.py"
    script.write_text(textwrap.dedent(CHILDREN))
    env = {**os.environ, "LOG_DIR": str(tmp_path), "LOG_CONSOLE": "false", "MONITORING_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    seen = [(r["context"]["worker"], r["context"]["seq"]) for r in _records(tmp_path / "market-data.log")]
    expected = {(0, 0)} | {(w, s) for w in range(1, workers + 1) for s in range(2000)}
    if mode == "gunicorn":
        expected |= {(1, -1), (2, -1)}
    assert sorted(seen) == sorted(expected)


def test_the_exception_that_ends_a_process_is_logged_and_the_previous_hook_still_runs(tmp_path: Path) -> None:
    """An unhandled exception becomes a CRITICAL record with its stack; the existing excepthook still prints."""
    done = _run("""
        import sys
        def previous(exc_type, exc, tb):
            print("previous hook saw", exc_type.__name__, file=sys.stderr)
        sys.excepthook = previous
        from crypto_observability.shared.structured_logger import create_structured_logger
        create_structured_logger("market-data", "main").info("starting")
        raise RuntimeError("boom at start-up")
    """, tmp_path)
    assert done.returncode == 1 and "previous hook saw RuntimeError" in done.stderr
    last = _records(tmp_path / "market-data.log")[-1]
    assert (last["level"], last["exception"]["type"]) == ("CRITICAL", "RuntimeError")
    assert "boom at start-up" in last["exception"]["stacktrace"]
