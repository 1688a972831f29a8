"""Several processes of one service share one log file through rotations without losing a line."""

from __future__ import annotations

import multiprocessing
import random
import zlib
from collections import Counter
from pathlib import Path

import pytest

from crypto_observability.shared import _rotation
from crypto_observability.shared.file_output import RotatingFileOutput

PROCESSES = 4
LINES = 50_000
MAX_BYTES = 1_000_000


def make_line(proc: int, seq: int) -> bytes:
    """Return a line carrying (process, seq), a variable-length pad and a CRC of all of it."""
    body = f'{{"p":{proc},"s":{seq},"pad":"{"abcdefghij" * (seq % 17)}"'
    return f'{body},"crc":{zlib.crc32(body.encode())}}}\n'.encode()


def parse_line(raw: bytes) -> tuple[int, int]:
    """Return (process, seq) of a whole, untorn line; raise AssertionError otherwise."""
    assert raw.endswith(b"}\n"), raw[:80]
    body, _, crc = raw[:-2].rpartition(b',"crc":')
    assert zlib.crc32(body) == int(crc), raw[:80]
    head = body.split(b",", 2)
    return int(head[0][5:]), int(head[1][4:])


def writer(path: str, proc: int, start: multiprocessing.synchronize.Barrier) -> None:
    """Write LINES lines in random batches of 1-64 lines, as a writer thread hands them over."""
    out = RotatingFileOutput(path, max_bytes=MAX_BYTES, backup_count=1000)
    rng = random.Random(proc)
    seq = 0
    start.wait()
    while seq < LINES:
        n = min(rng.randint(1, 64), LINES - seq)
        out.write(b"".join(make_line(proc, s) for s in range(seq, seq + n)))
        seq += n
    out.close()


@pytest.mark.slow
def test_four_processes_lose_tear_or_duplicate_no_line_through_many_rotations(tmp_path: Path) -> None:
    """4 processes x 50,000 lines through 10+ rotations: every line arrives exactly once, whole, in order."""
    log = tmp_path / "svc.log"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES)
    procs = [context.Process(target=writer, args=(str(log), p, start)) for p in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * PROCESSES
    rotated = _rotation.list_rotated(log)
    assert len(rotated) >= 10
    assert all(item.name.endswith(".gz") for item in rotated)
    seen = [parse_line(raw) for raw in _rotation.read_lines(log)]
    counts = Counter(seen)
    assert len(seen) == PROCESSES * LINES
    assert set(counts) == {(p, s) for p in range(PROCESSES) for s in range(LINES)}
    for proc in range(PROCESSES):
        own = [s for p, s in seen if p == proc]
        assert own == list(range(LINES))


def test_a_forked_child_reopens_instead_of_sharing_the_parents_lock(tmp_path: Path) -> None:
    """An output inherited through fork keeps working in both processes, through rotations."""
    log = tmp_path / "svc.log"
    out = RotatingFileOutput(log, max_bytes=5_000, backup_count=1000)
    out.write(make_line(0, 0))
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child_writes, args=(out,))
    child.start()
    for seq in range(1, 300):
        out.write(make_line(0, seq))
    child.join(timeout=30)
    out.close()
    assert child.exitcode == 0
    seen = Counter(parse_line(raw) for raw in _rotation.read_lines(log))
    assert set(seen) == {(p, s) for p in (0, 1) for s in range(300)}
    assert set(seen.values()) == {1}


def _child_writes(out: RotatingFileOutput) -> None:
    """Write 300 lines as process 1 through the output inherited from the parent."""
    for seq in range(300):
        out.write(make_line(1, seq))
    out.close()
