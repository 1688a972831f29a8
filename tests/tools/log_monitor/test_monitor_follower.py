"""The follower reads every line once across rotation, gzip, copytruncate, deletion and restarts."""

from __future__ import annotations

import gzip
import itertools
import os
import shutil
from pathlib import Path

import pytest

from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.follower import Follower, Line, follow
from crypto_observability.shared._rotation import SCRATCH_SUFFIX


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


@pytest.mark.parametrize("read_late_line", [False, True])
def test_copytruncate_drains_the_copy(tmp_path: Path, read_late_line: bool) -> None:
    """After copytruncate the rest comes from the copy, and a copy shorter than what was read is not read again."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    _write(log, b"1\n")
    assert f.poll() == [b"1"]
    _write(log, b"2\n")
    shutil.copyfile(log, tmp_path / "a.log.1")
    if read_late_line:  # written after the copy, read before the truncation
        _write(log, b"late\n")
        assert f.poll() == [b"2", b"late"]
    os.truncate(log, 0)
    _write(log, b"3\n")
    assert sorted(f.poll()) == ([b"3"] if read_late_line else [b"2", b"3"])
    assert f.poll() == []
    assert (f.stats.truncations, f.stats.lost_streams) == (1, 0)


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
    from crypto_observability.log_monitor import commands
    from crypto_observability.log_monitor.config import parse_config
    from crypto_observability.log_monitor.monitor import Monitor

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


def test_compressor_scratch_files_are_never_followed(tmp_path: Path) -> None:
    """A half-written `<rotated>.gz.tmp` (the naming contract's scratch file) yields no lines."""
    log = tmp_path / "a.log"
    f = _follower(tmp_path)
    assert f.poll() == []
    _write(log, b"1\n")
    _write(tmp_path / ("a.log.20250101T000000.000Z" + SCRATCH_SUFFIX), b"junk\n" * 31)
    assert f.poll() == [b"1"]
    assert f.poll() == []


def test_rotated_file_and_its_gz_are_one_file_across_a_restart(tmp_path: Path) -> None:
    """A rotated file beside its finished .gz is read once; after a restart, the rest comes from the .gz."""
    log, clock = tmp_path / "a.log", FakeClock()
    f = _follower(tmp_path, clock)
    f.poll()
    _write(log, b"".join(b"%d\n" % i for i in range(6)))
    rotated = tmp_path / "a.log.20250101T000000.000Z"
    os.rename(log, rotated)
    with open(rotated, "rb") as src, gzip.open(str(rotated) + ".gz", "wb") as dst:
        shutil.copyfileobj(src, dst)  # the .gz is complete, its source not yet removed
    assert f.poll(2) == [b"0", b"1"]
    snap = f.snapshot()
    f.close()
    rotated.unlink()
    g = _follower(tmp_path, clock)
    g.restore(snap)
    assert g.poll() == [b"2", b"3", b"4", b"5"]
    clock.advance(2)
    assert g.poll() == []
    assert (g.stats.files_done, g.stats.lost_streams) == (1, 0)


def test_symlink_loop_is_counted_not_fatal(tmp_path: Path) -> None:
    """A name that loops (ELOOP) is counted and retried; the other files are still read."""
    os.symlink("b.log", tmp_path / "b.log")
    _write(tmp_path / "a.log", b"1\n")
    f = _follower(tmp_path)
    assert f.poll() == [b"1"]
    assert f.stats.fs_errors["ELOOP"] >= 1
    assert f.stats.last_fs_error == f"ELOOP on {tmp_path / 'b.log'}"


def test_active_file_unresolvable_for_a_while_is_never_retired(tmp_path: Path) -> None:
    """An active file whose name fails (ELOOP) for longer than rotate_wait is read on, also after a restart."""
    real = tmp_path / "real"
    real.mkdir()
    log, link, clock = real / "a.log", tmp_path / "a.log", FakeClock()
    _write(log, b"1\n")
    os.symlink(log, link)
    f = _follower(tmp_path, clock)
    assert f.poll() == [b"1"]
    link.unlink()
    os.symlink("a.log", link)  # the name now loops
    for n in (2, 3):
        _write(log, b"%d\n" % n)
        clock.advance(3)
        assert f.poll() == [b"%d" % n]
    snap = f.snapshot()
    f.close()
    g = _follower(tmp_path, clock)
    g.restore(snap)
    _write(log, b"4\n")
    for _ in range(3):
        clock.advance(3)
        assert g.poll() == []
    link.unlink()
    os.symlink(log, link)  # readable again
    _write(log, b"5\n")
    assert g.poll() == [b"4", b"5"]
    assert (g.stats.lost_streams, g.stats.files_done) == (0, 0)


def test_filesystem_errors_are_shown_by_status(tmp_path: Path) -> None:
    """`log-monitor status` reports the follower's filesystem errors by kind."""
    from crypto_observability.log_monitor import commands
    from crypto_observability.log_monitor.config import parse_config
    from crypto_observability.log_monitor.monitor import Monitor

    os.symlink("b.log", tmp_path / "b.log")
    cfg = parse_config({"state_db": str(tmp_path / "s.db"), "sources": [str(tmp_path / "*.log")]})
    m = Monitor(cfg, clock=FakeClock(), notifiers={})
    m.step()
    st = commands.status(m.store)
    m.close()
    assert st["follower"]["fs_errors"]["ELOOP"] >= 1


def test_follow_yields_new_lines_with_their_source_without_a_database(tmp_path: Path) -> None:
    """follow(directory) starts at the end and yields (source, line) across a rename rotation."""
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    _write(a, b"old\n")
    calls = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        assert len(calls) < 50, "follow() found no new line"

    lines = follow([str(tmp_path)], sleep=sleep, clock=FakeClock())
    _write(a, b"a1\n")
    _write(b, b"b1\n")
    os.rename(a, tmp_path / "a.log.1")
    _write(tmp_path / "a.log.1", b"a2\n")
    _write(a, b"a3\n")
    got = list(itertools.islice(lines, 4))
    lines.close()
    assert sorted(got) == [
        Line(str(a), b"a1"),
        Line(str(a), b"a2"),
        Line(str(a), b"a3"),
        Line(str(b), b"b1"),
    ]


def test_follow_from_the_beginning_of_given_files(tmp_path: Path) -> None:
    """follow([file], start_at='beginning') yields what the file already holds."""
    a = tmp_path / "a.log"
    _write(a, b"1\n2\n")
    lines = follow([str(a)], start_at="beginning", clock=FakeClock())
    assert list(itertools.islice(lines, 2)) == [Line(str(a), b"1"), Line(str(a), b"2")]
    lines.close()


def test_a_rename_that_puts_the_same_file_back_is_not_a_truncation(tmp_path: Path) -> None:
    """Renamed away and back (same inode, same content): no truncation counted, nothing read twice or lost."""
    log = tmp_path / "a.log"
    _write(log, b"1\n2\n")
    f = _follower(tmp_path)
    assert f.poll() == [b"1", b"2"]
    os.rename(log, tmp_path / "a.log.tmp-move")
    assert f.poll() == []
    os.rename(tmp_path / "a.log.tmp-move", log)
    _write(log, b"3\n")
    assert f.poll() == [b"3"]
    assert f.stats.truncations == 0


def test_a_byte_budget_loses_and_repeats_nothing_across_gzipped_rotations(tmp_path: Path) -> None:
    """`poll(max_bytes=)` keeps each poll within its bytes, and every line still arrives once, .gz files included."""
    log, clock = tmp_path / "a.log", FakeClock()
    gens = [[b"gen%d-%03d-xxxxxxx" % (g, i) for i in range(60)] for g in range(3)]  # 16 bytes each
    f = _follower(tmp_path, clock)
    _write(log, b"".join(line + b"\n" for line in gens[0]))
    got = f.poll(5)
    os.rename(log, tmp_path / "a.log.1")
    _write(log, b"".join(line + b"\n" for line in gens[1]))
    got += f.poll(5)  # both generations are streams of the snapshot now, the first 10 lines in
    snap = f.snapshot()
    f.close()
    os.rename(tmp_path / "a.log.1", tmp_path / "a.log.2")
    _gzip(tmp_path / "a.log.2")
    os.rename(log, tmp_path / "a.log.1")
    _gzip(tmp_path / "a.log.1")
    _write(log, b"".join(line + b"\n" for line in gens[2]))
    g = _follower(tmp_path, clock)
    g.restore(snap)
    first = g.poll(max_bytes=50 * 16 + 8)  # the first .gz ends 8 bytes short of the budget: none of the second fits
    assert first == gens[0][10:]
    got += first
    for limit in itertools.islice(itertools.cycle([1, 7, 40, 41, 90, 300, 25, 64, 2_000]), 500):
        lines = g.poll(max_bytes=limit)
        if not lines:
            break
        assert sum(map(len, lines)) <= limit or len(lines) == 1
        got += lines
    assert sorted(got) == sorted(set(got)) and sorted(got) == sorted(line for gen in gens for line in gen)
