"""The follower reads every line once across rotation, gzip, copytruncate, deletion and restarts."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from tools.log_monitor.clock import FakeClock
from tools.log_monitor.follower import Follower


def _write(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _gzip(path: Path) -> Path:
    dst = Path(str(path) + ".gz")
    with open(path, "rb") as src, gzip.open(dst, "wb") as out:
        shutil.copyfileobj(src, out)
    path.unlink()
    return dst


def _follower(tmp_path: Path, clock: FakeClock | None = None, **kw: object) -> Follower:
    return Follower([str(tmp_path / "*.log")], clock=clock or FakeClock(), rotate_wait=1.0, **kw)  # type: ignore[arg-type]


def test_partial_line_waits_for_newline(tmp_path: Path) -> None:
    """A line without its newline is held back until the newline arrives."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"one\ntw")
    assert f.poll() == [b"one"]
    _write(log, b"o\n")
    assert f.poll() == [b"two"]


def test_rename_rotation_reads_old_file_to_end(tmp_path: Path) -> None:
    """Lines appended to a renamed file after rotation are still read, then the new file."""
    log, clock = tmp_path / "a.log", FakeClock()
    f = _follower(tmp_path, clock)
    _write(log, b"1\n")
    assert f.poll() == [b"1"]
    os.rename(log, tmp_path / "a.log.20250101T000000.000Z")
    _write(tmp_path / "a.log.20250101T000000.000Z", b"2\n")
    _write(log, b"3\n")
    assert f.poll() == [b"2", b"3"]
    clock.advance(2)
    assert f.poll() == []
    assert f.stats.files_done == 1


def test_restart_resumes_inside_gzip(tmp_path: Path) -> None:
    """A file rotated and compressed while the monitor was down is resumed inside the .gz."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"1\n2\n")
    assert f.poll() == [b"1", b"2"]
    snap = f.snapshot()
    f.close()
    _write(log, b"3\n")
    rotated = tmp_path / "a.log.20250101T000000.000Z"
    os.rename(log, rotated)
    _gzip(rotated)
    _write(log, b"4\n")
    g = _follower(tmp_path)
    g.restore(snap)
    assert g.poll() == [b"3", b"4"]


def test_copytruncate_drains_the_copy(tmp_path: Path) -> None:
    """After copytruncate, lines between the offset and the truncation come from the copy."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"1\n")
    assert f.poll() == [b"1"]
    _write(log, b"2\n")
    shutil.copyfile(log, tmp_path / "a.log.1")
    os.truncate(log, 0)
    _write(log, b"3\n")
    assert sorted(f.poll()) == [b"2", b"3"]
    assert f.stats.truncations == 1


def test_deleted_file_is_drained_through_open_handle(tmp_path: Path) -> None:
    """A file deleted after being written is still read to its end."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"1\n")
    f.poll()
    _write(log, b"2\n")
    log.unlink()
    assert f.poll() == [b"2"]


def test_inode_reuse_is_a_new_file(tmp_path: Path) -> None:
    """A new file with other content at the same inode is read from its start after restart."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"first-file-line\n")
    f.poll()
    snap = f.snapshot()
    f.close()
    with open(log, "r+b") as h:  # same inode, different content
        h.truncate(0)
        h.write(b"second\n")
    g = _follower(tmp_path)
    g.restore(snap)
    assert g.poll() == [b"second"]


def test_overlong_lines_are_capped_counted_and_skipped(tmp_path: Path) -> None:
    """A line above max_line_bytes is skipped (even across reads) and counted."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path, max_line_bytes=300)
    _write(log, b"ok\n" + b"x" * 1000)
    assert f.poll() == [b"ok"]
    _write(log, b"y" * 500 + b"\nafter\n" + b"z" * 400 + b"\nend\n")
    assert f.poll() == [b"after", b"end"]
    assert f.stats.long_lines == 2


def test_start_at_end_skips_existing_content(tmp_path: Path) -> None:
    """With start_at=end a file present at first start is followed from its end; old rotations are ignored."""
    log = tmp_path / "a.log"
    _write(log, b"old\n")
    _write(tmp_path / "a.log.1", b"older\n")
    f = _follower(tmp_path, start_at="end")
    assert f.poll() == []
    _write(log, b"new\n")
    assert f.poll() == [b"new"]


def test_new_files_matching_the_glob_are_followed(tmp_path: Path) -> None:
    """A file appearing later that matches the glob is read from its start."""
    f = _follower(tmp_path)
    assert f.poll() == []
    _write(tmp_path / "b.log", b"hello\n")
    assert f.poll() == [b"hello"]


def _partial_then_rotate(tmp_path: Path) -> tuple[Path, Path]:
    """Write one whole line and the start of another, as a writer killed mid-line leaves them."""
    log, old = tmp_path / "a.log", tmp_path / "a.log.1"
    _write(log, b'{"timestamp":"2025-01-15T10:30:00.000Z","service":"s"}\n{"timestamp":"2025-01-1')
    return log, old


def test_partial_tail_of_rotated_file_is_counted_as_parse_error(tmp_path: Path) -> None:
    """A crashed writer's unfinished last line in a rotated file is dropped, counted and shown in status."""
    from tools.log_monitor import commands
    from tools.log_monitor.config import parse_config
    from tools.log_monitor.monitor import Monitor

    clock = FakeClock()
    cfg = parse_config(
        {"state_db": str(tmp_path / "s.db"), "sources": [str(tmp_path / "a.log")], "start_at": "beginning"}
    )
    m = Monitor(cfg, clock=clock, notifiers={})
    log, old = _partial_then_rotate(tmp_path)
    assert m.step() == 1
    os.rename(log, old)
    _write(log, b'{"timestamp":"2025-01-15T10:30:01.000Z","service":"s"}\n')
    assert m.step() == 1
    assert m.selfmon["parse_errors"] == 0, "the tail may still be completed within rotate_wait"
    clock.advance(6)
    m.step()
    st = commands.status(m.store, clock=clock)
    m.close()
    assert st["parse_errors"] == 1
    assert (st["follower"]["dropped_tails"], st["follower"]["dropped_tail_bytes"]) == (1, 23)


def test_partial_tail_inside_gzip_is_counted_after_restart(tmp_path: Path) -> None:
    """Resumed inside a .gz after a restart, a rotated file's unfinished last line is counted once."""
    clock = FakeClock()
    f = _follower(tmp_path, clock)
    log, old = _partial_then_rotate(tmp_path)
    assert len(f.poll()) == 1
    snap = f.snapshot()
    f.close()
    os.rename(log, old)
    _gzip(old)
    _write(log, b"next\n")
    f = _follower(tmp_path, clock)
    f.restore(snap)
    assert f.poll() == [b"next"]
    assert (f.stats.dropped_tails, f.stats.dropped_tail_bytes, f.stats.files_done) == (1, 23, 1)
    f.close()
