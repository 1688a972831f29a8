"""Random writes, rotations, compressions, truncations and crashes: every line is processed exactly once."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.rules_logs import Signal


class Collect:
    """A rule that remembers every record it saw, in its committed state."""

    def evaluate(self, records: Sequence[dict[str, Any]], now: float, state: dict[str, Any]) -> list[Signal]:
        state.setdefault("seen", []).extend(r["message"] for r in records)
        return []


def _line(i: int) -> bytes:
    return (
        b'{"timestamp":"2025-01-15T10:30:00.000Z","service":"s","module":"m","level":"INFO",'
        b'"message":"L%06d","context":{}}\n' % i
    )


class World:
    """The log directory, its writer, and a monitor that can be killed at any point."""

    def __init__(self, root: Path) -> None:
        self.root, self.log, self.clock = root, root / "a.log", FakeClock()
        self.cfg = parse_config(
            {
                "state_db": str(root / "state.db"),
                "sources": [str(self.log)],
                "start_at": "beginning",
                "rotate_wait": 1,
                "batch_lines": 7,
            }
        )
        self.written: list[str] = []
        self.partial = b""
        self.n = self.rot = 0
        self.monitor = self._start()

    def _start(self) -> Monitor:
        return Monitor(self.cfg, clock=self.clock, notifiers={}, rules={"collect": Collect()})

    def _append(self, data: bytes) -> None:
        with open(self.log, "ab") as f:
            f.write(data)

    def write(self, k: int, split: bool) -> None:
        data = self.partial
        self.partial = b""
        for _ in range(k):
            self.n += 1
            self.written.append(f"L{self.n:06d}")
            data += _line(self.n)
        if split:
            self.n += 1
            self.written.append(f"L{self.n:06d}")
            whole = _line(self.n)
            data, self.partial = data + whole[:40], whole[40:]
        self._append(data)

    def rotate(self, copy: bool) -> None:
        if self.partial or not self.log.exists():
            return
        self.rot += 1
        dst = self.root / f"a.log.2025011{self.rot:05d}"
        if copy:
            shutil.copyfile(self.log, dst)
            os.truncate(self.log, 0)
        else:
            os.rename(self.log, dst)

    def compress(self) -> None:
        plain = sorted(p for p in self.root.glob("a.log.*") if not p.name.endswith(".gz"))
        if not plain:
            return
        src = plain[0]
        with open(src, "rb") as f, gzip.open(str(src) + ".gz", "wb") as out:
            shutil.copyfileobj(f, out)
        src.unlink()

    def crash(self) -> None:
        self.monitor.process()  # work done in memory, then kill -9 before the commit
        self.monitor.close()
        self.monitor = self._start()

    def step(self) -> None:
        self.monitor.step()
        self.clock.advance(0.5)

    def seen(self) -> list[str]:
        return list(self.monitor.states["collect"].get("seen", []))


OPS = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("rotate"), st.booleans()),
    st.tuples(st.just("compress")),
    st.tuples(st.just("step")),
    st.tuples(st.just("crash")),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(OPS, max_size=30))
@example(  # a partial first line's short head once matched every later file with the same line prefix
    [
        ("write", 0, True),
        ("step",),
        ("write", 0, False),
        ("rotate", True),
        ("rotate", False),
        ("write", 0, True),
        ("compress",),
    ]
)
def test_exactly_once_under_rotation_compression_truncation_and_crashes(ops: list[tuple[Any, ...]]) -> None:
    """No line is processed twice or skipped, whatever happens between and during steps."""
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp))
        for op in ops:
            getattr(w, op[0])(*op[1:])
        if w.partial:
            w._append(w.partial)
            w.partial = b""
        for _ in range(40):
            w.step()
            w.clock.advance(1)
        seen = w.seen()
        w.monitor.close()
        assert len(seen) == len(set(seen)), "a line was processed twice"
        assert sorted(seen) == sorted(w.written)
