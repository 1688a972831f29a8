"""The follower reads every line exactly once whatever rotation happens at whatever step of its poll."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.bench_follower import RaceConfig, race
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.follower import POLL_STEPS, Follower
from crypto_observability.shared import _rotation


class Writer:
    """One active file `a.log` written line by line, rotated on demand in each way writers do it."""

    def __init__(self, root: Path) -> None:
        self.root, self.log, self.n = root, root / "a.log", 0

    def write(self, k: int) -> None:
        with open(self.log, "ab") as f:
            for _ in range(k):
                self.n += 1
                f.write(b'{"message":"L%06d"}\n' % self.n)

    def _renamed(self) -> Path | None:
        if not self.log.exists() or self.log.stat().st_size == 0:
            return None
        rotated = _rotation.rotated_name(self.log, time.time())
        os.rename(self.log, rotated)
        return rotated

    def rename(self) -> None:
        self._renamed()

    def rename_gzip(self) -> None:
        """The library's own compression: `.gz.tmp`, renamed to `.gz`, then the plain file removed."""
        rotated = self._renamed()
        if rotated is not None:
            _rotation.compress(rotated)

    def gzip_beside(self) -> None:
        """A compression that finished its `.gz` but not yet the removal of its source."""
        rotated = self._renamed()
        if rotated is not None:
            with open(rotated, "rb") as src, gzip.open(str(rotated) + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)

    def scratch(self) -> None:
        """A compressor's half-written `.gz.tmp` beside a rotated file (here: junk that looks like lines)."""
        rotated = self._renamed()
        if rotated is not None:
            (self.root / (rotated.name + _rotation.SCRATCH_SUFFIX)).write_bytes(b'{"message":"junk"}\n' * 5)

    def copytruncate(self) -> None:
        if self.log.exists() and self.log.stat().st_size:
            shutil.copyfile(self.log, _rotation.rotated_name(self.log, time.time()))
            os.truncate(self.log, 0)


ACTIONS = ("rename", "rename_gzip", "gzip_beside", "scratch", "copytruncate")


def _read_all(root: Path, act: Callable[[str, str], None], writer: Writer) -> list[bytes]:
    """Write, poll and rotate for a while, acting through the hook; return every line the follower gave."""
    clock = FakeClock()
    follower = Follower([str(root / "*.log")], clock=clock, rotate_wait=1.0, on_step=act)
    got: list[bytes] = []
    for i in range(16):
        if i < 10:
            writer.write(3)
        if i == 5:
            writer.rename()  # so that a rotated stream finishes later, whatever the step acted on
        got += follower.poll(4)
        clock.advance(0.5)
    while lines := follower.poll():
        got += lines
    follower.close()
    return got


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("step", POLL_STEPS)
def test_rotation_at_any_step_of_a_poll_reads_each_line_once(tmp_path: Path, step: str, action: str) -> None:
    """A rename, gzip, copytruncate or scratch file appearing at any step of a poll loses and repeats no line."""
    writer = Writer(tmp_path)
    fired = []

    def act(at: str, path: str) -> None:
        if at == step and len(fired) < 4:
            fired.append(path)
            getattr(writer, action)()
            writer.write(2)

    got = _read_all(tmp_path, act, writer)
    assert fired, f"the step {step!r} never came"
    assert len(got) == len(set(got)), "a line was read twice"
    assert sorted(got) == [b'{"message":"L%06d"}' % i for i in range(1, writer.n + 1)]


@pytest.mark.slow
def test_real_writers_racing_the_follower_through_hundreds_of_rotations(tmp_path: Path) -> None:
    """Library processes (1 KB files), rename+gzip and copytruncate writers vs a restarting follower: exactly once."""
    result = race(tmp_path, RaceConfig(lib_processes=3, lines_per_writer=800, seed=7))
    assert (result.missing, result.duplicated) == ([], {})
    assert result.read == result.written
    assert result.rotations >= 250
