"""A failing log file never raises into the service: it reports once, drops, and resumes by itself.

These tests run as root, where chmod does not stop a write, so each failure is made real in a
way root cannot bypass: a parent path component that is a regular file (ENOTDIR), the log
path pointing at /dev/full (ENOSPC), and the directory removed under a running writer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crypto_observability.shared import _rotation
from crypto_observability.shared.file_output import RotatingFileOutput

T0 = 1_736_937_000.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(i: int) -> bytes:
    """Return a short numbered line."""
    return f"line {i}\n".encode()


def lines(start: int, stop: int) -> bytes:
    """Return a batch of numbered lines."""
    return b"".join(line(i) for i in range(start, stop))


def test_a_file_in_place_of_the_directory_reports_once_and_resumes_when_it_is_a_directory(
    tmp_path: Path,
) -> None:
    """ENOTDIR (a regular file where a parent directory should be; fails even for root): one report,
    the failed batch dropped, no retry before a second has passed (lines meanwhile are held), then
    writing resumes, held lines first, with a recovery report."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    clock, reports = FakeClock(), []
    out = RotatingFileOutput(blocker / "logs" / "svc.log", clock=clock, on_error=reports.append)
    out.write(lines(0, 3))
    clock.now += 0.5
    out.write(lines(3, 5))
    assert len(reports) == 1
    assert "Not a directory" in reports[0]
    assert str(blocker / "logs" / "svc.log") in reports[0]
    blocker.unlink()
    blocker.mkdir()
    clock.now += 0.4  # still within the retry interval: held without touching the disk
    out.write(line(5))
    assert not (blocker / "logs").exists()
    clock.now += 0.2
    out.write(line(6))
    out.close()
    assert (blocker / "logs" / "svc.log").read_bytes() == lines(3, 7)
    assert len(reports) == 2
    assert "3 log lines were dropped" in reports[1]


def test_a_full_disk_reports_once_and_leaves_no_torn_line(tmp_path: Path) -> None:
    """ENOSPC (the log path is a symlink to /dev/full, which refuses every byte): reported once with
    the reason; when the path is a normal file again, lines resume whole."""
    log = tmp_path / "svc.log"
    log.symlink_to("/dev/full")
    clock, reports = FakeClock(), []
    out = RotatingFileOutput(log, clock=clock, on_error=reports.append)
    for i in range(5):
        out.write(line(i))
        clock.now += 1.5  # past the retry interval each time: it retries, fails, stays quiet
    assert len(reports) == 1
    assert "No space left on device" in reports[0]
    log.unlink()
    out.write(line(5))
    out.close()
    assert log.read_bytes() == line(5)
    assert "5 log lines were dropped" in reports[1]


def test_a_removed_directory_is_recreated_and_writing_goes_on(tmp_path: Path) -> None:
    """If the log directory is deleted under a running writer, the next batch recreates it (0750)
    instead of vanishing into the unlinked file."""
    log = tmp_path / "logs" / "svc.log"
    reports: list[str] = []
    out = RotatingFileOutput(log, on_error=reports.append)
    out.write(lines(0, 3))
    shutil.rmtree(log.parent)
    out.write(lines(3, 6))
    out.close()
    assert log.read_bytes() == lines(3, 6)
    assert oct(log.parent.stat().st_mode & 0o777) == oct(0o750)
    assert reports == []


def test_a_directory_replaced_by_a_file_reports_then_recovers(tmp_path: Path) -> None:
    """The directory removed and a regular file put in its place: one report, then recovery once
    the directory can be created again."""
    log = tmp_path / "logs" / "svc.log"
    clock, reports = FakeClock(), []
    out = RotatingFileOutput(log, clock=clock, on_error=reports.append)
    out.write(line(0))
    shutil.rmtree(log.parent)
    log.parent.write_text("in the way")
    out.write(line(1))
    out.write(line(2))
    log.parent.unlink()
    clock.now += 1
    out.write(line(3))
    out.close()
    assert log.read_bytes() == lines(2, 4)  # line 2 came while waiting to retry: held, then written
    assert len(reports) == 2
    assert "1 log lines were dropped" in reports[1]


def test_failures_go_to_stderr_by_default_and_a_broken_reporter_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without on_error the report goes to stderr; a reporter that raises does not reach the caller."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    RotatingFileOutput(blocker / "svc.log").write(line(0))
    assert "cannot write" in capsys.readouterr().err

    def broken(message: str) -> None:
        raise RuntimeError(message)

    RotatingFileOutput(blocker / "svc.log", on_error=broken).write(line(0))


def test_writing_after_close_drops_and_reports_once(tmp_path: Path) -> None:
    """A late batch after close() is dropped with a single report, never an exception."""
    reports: list[str] = []
    out = RotatingFileOutput(tmp_path / "svc.log", on_error=reports.append)
    out.write(line(0))
    out.close()
    out.write(line(1))
    out.write(line(2))
    out.close()
    assert (tmp_path / "svc.log").read_bytes() == line(0)
    assert len(reports) == 1
    assert "closed" in reports[0]


def test_a_deleted_lock_file_is_recreated_and_shared_again(tmp_path: Path) -> None:
    """If only the lock file is deleted, writers notice within a second and meet on a new one."""
    log = tmp_path / "svc.log"
    clock = FakeClock()
    first, second = (RotatingFileOutput(log, clock=clock) for _ in range(2))
    first.write(line(0))
    second.write(line(1))
    lock = tmp_path / ".svc.log.lock"
    lock.unlink()
    clock.now += 1
    first.write(line(2))
    second.write(line(3))
    assert first._lock_ident == second._lock_ident == (lock.stat().st_dev, lock.stat().st_ino)
    first.close()
    second.close()
    assert log.read_bytes() == lines(0, 4)


def test_a_rotated_file_left_plain_by_a_crashed_process_is_compressed_later(tmp_path: Path) -> None:
    """A crash between rename and gzip leaves a plain rotated file and a partial .gz.tmp; the next
    rotation's sweep compresses it properly and removes the leftovers."""
    log = tmp_path / "svc.log"
    orphan = tmp_path / "svc.log.20250115T103000.000Z"
    orphan.write_bytes(lines(0, 3))
    (tmp_path / (orphan.name + ".gz.tmp")).write_bytes(b"\x1f\x8b partial")
    out = RotatingFileOutput(log, max_bytes=10)
    out.write(lines(3, 5))
    out.write(line(5))
    out.close()
    names = {p.name for p in tmp_path.iterdir()}
    assert orphan.name + ".gz" in names
    assert {n for n in names if n.startswith("svc.log.") and not n.endswith(".gz")} == set()
    assert _rotation.read_lines(log) == [line(i) for i in range(6)]


def test_a_reporter_that_logs_through_the_same_output_does_not_deadlock(tmp_path: Path) -> None:
    """Reports are made outside the output's lock, so a reporter may write to the output itself."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    clock = FakeClock()
    out: RotatingFileOutput

    def log_it(message: str) -> None:
        out.write(f"report: {message}\n".encode())

    out = RotatingFileOutput(blocker / "svc.log", clock=clock, on_error=log_it)
    out.write(line(0))
    blocker.unlink()
    blocker.mkdir()
    clock.now += 1
    out.write(line(1))
    out.close()
    written = (blocker / "svc.log").read_bytes().splitlines()
    assert written[0].startswith(b"report: ") and b"cannot write" in written[0]  # held while waiting to retry
    assert written[1] == b"line 1"
    assert written[2].startswith(b"report: ") and b"1 log lines were dropped" in written[2]
