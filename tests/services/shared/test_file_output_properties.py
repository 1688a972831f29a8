"""Random interleavings of writers, batch sizes, clock jumps and limits never lose or duplicate a line."""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared import _rotation
from crypto_observability.shared.file_output import RotatingFileOutput, rotated_sort_key

T0 = 1_736_937_000.0
ROTATED = re.compile(r"svc\.log\.\d{8}T\d{6}\.\d{3}Z(-[1-9]\d*)?\.gz\Z")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


writes = st.tuples(st.just("write"), st.integers(0, 1), st.integers(1, 12), st.integers(8, 120))
ticks = st.tuples(st.just("tick"), st.floats(0, 90), st.just(0), st.just(0))
scripts = st.lists(st.one_of(writes, writes, ticks), min_size=1, max_size=60)


def numbered(writer: int, seq: int, width: int) -> bytes:
    """Return a line naming its writer and sequence number, padded to ``width`` bytes."""
    head = f"{writer}:{seq}:"
    return (head + "." * max(0, width - len(head) - 1) + "\n").encode()


@settings(max_examples=100, deadline=None)
@given(
    script=scripts,
    max_bytes=st.integers(0, 3000),
    max_age_s=st.one_of(st.none(), st.floats(5, 200)),
    compress=st.booleans(),
)
def test_any_interleaving_keeps_every_line_once_in_order_under_valid_names(
    script: list[tuple[str, float, int, int]], max_bytes: int, max_age_s: float | None, compress: bool
) -> None:
    """Two writers on one file, random batches, limits and clock jumps: each batch lands at the end
    of the active file; each line once, in order; rotated names well formed, unique, time-ordered;
    each file within max_bytes or one batch."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "svc.log"
        clock = FakeClock()
        writers = [
            RotatingFileOutput(
                log,
                max_bytes=max_bytes,
                max_age_s=max_age_s,
                backup_count=10_000,
                compress=compress,
                clock=clock,
            )
            for _ in range(2)  # keep every rotated file, so that loss can be checked
        ]
        sent: list[list[bytes]] = [[], []]
        biggest = 0
        for kind, a, n, width in script:
            if kind == "tick":
                clock.now += a
                continue
            writer = int(a)
            batch = [numbered(writer, len(sent[writer]) + i, width) for i in range(n)]
            writers[writer].write(b"".join(batch))
            assert log.read_bytes().endswith(b"".join(batch))  # followers see it in the active file
            sent[writer] += batch
            biggest = max(biggest, sum(map(len, batch)))
        for w in writers:
            w.close()
        got = _rotation.read_lines(log)
        for writer in (0, 1):
            assert [x for x in got if x.startswith(f"{writer}:".encode())] == sent[writer]
        assert len(got) == len(sent[0]) + len(sent[1])
        check_names(log, compress, max_bytes, biggest)


def check_names(log: Path, compress: bool, max_bytes: int, biggest: int) -> None:
    """Check the rotated files' names, ordering, sizes and the absence of leftovers."""
    names = sorted(os.listdir(log.parent))
    rotated = [n for n in names if n.startswith("svc.log.")]
    assert set(names) - set(rotated) <= {"svc.log", ".svc.log.lock"}
    if compress:
        assert all(ROTATED.match(n) for n in rotated), rotated
    else:
        assert all(ROTATED.match(n + ".gz") for n in rotated), rotated
    keys = [rotated_sort_key(log, n) for n in rotated]
    assert len(set(keys)) == len(keys)
    ordered = _rotation.list_rotated(log)
    stamps = [rotated_sort_key(log, p.name) for p in ordered]
    assert stamps == sorted(k for k in keys if k is not None)
    for item in ordered:
        data = _read(item)
        assert data, f"empty rotated file {item.name}"
        assert max_bytes == 0 or len(data) <= max(max_bytes, biggest)


def _read(item: Path) -> bytes:
    """Return the uncompressed bytes of one rotated file."""
    raw = item.read_bytes()
    return gzip.decompress(raw) if item.name.endswith(".gz") else raw
