"""Race real writers against the follower through thousands of rotations; every line must arrive exactly once.

Writers, each in its own forked process, all into one directory followed as `<dir>/*.log`:
  * `lib`: several processes logging through the project's library (setup_service_logging,
    LOG_MAX_BYTES=1KB, so a rotation every few lines, each gzipped by the library's compressor);
  * `hand`: rename rotation then gzip by hand, gzip(1)-style (the `.gz` is written beside the
    renamed file, which is removed only when the `.gz` is complete);
  * `copy`: copytruncate (copy, then truncate the file the writer keeps appending to).
The follower polls throughout (some polls under a byte budget that ends them mid-file), restarts
from its snapshot every `restart_every` polls, and its `on_step` hook sleeps at random steps of a
poll to widen every race window.

    python -m benchmarks.bench_follower [--seconds 60] [--quick]

prints lines, rotations, seconds, duplicates and losses per run (a loss or duplicate fails the run).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._timing import table
from crypto_observability.log_monitor.follower import Follower
from crypto_observability.shared import _rotation

BYTE_BUDGETS = (None, None, 300, 4096)  # per poll: the monitor bounds each batch's bytes like this
_ID = re.compile(rb"\b(?P<id>[a-z]+-\d+-\d+)\b")


@dataclass
class RaceConfig:
    """How hard to race: writers, lines per writer, rotation sizes, follower restarts, jitter."""

    lib_processes: int = 3
    lines_per_writer: int = 2000
    hand_every: int = 7  # lines between rotations of the hand-rotated files
    rotate_wait: float = 0.3
    restart_every: int = 25
    jitter: float = 0.05  # probability that a poll step sleeps up to 2 ms
    seed: int = 1
    pace: float = 0.0005  # seconds a writer rests between lines, so the follower polls while they write
    timeout: float = 600.0  # a race not finished by then reports `timed_out` (its unread lines as missing)


@dataclass
class RaceResult:
    """What one race saw: lines written and read, rotations on disk, and every anomaly."""

    written: int
    read: int
    rotations: int
    seconds: float
    missing: list[str] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    timed_out: bool = False

    @property
    def exactly_once(self) -> bool:
        return not self.missing and not self.duplicated


def _lib_writer(root: str, proc: int, lines: int, pace: float) -> None:
    """Log `lines` records through the project's library with 1 KB files (a forked child)."""
    from crypto_observability.shared.logging_config import setup_service_logging, shutdown_logging
    from crypto_observability.shared.settings import LogSettings

    settings = LogSettings(
        log_dir=Path(root), console=False, monitoring=False, max_bytes=1024, max_age_s=None, backup_count=10**6
    )
    log = setup_service_logging("lib", "race", settings=settings)
    for seq in range(lines):
        log.info("lib-%d-%d", proc, seq)
        time.sleep(pace)
    shutdown_logging()


def _hand_writer(root: str, kind: str, lines: int, every: int, pace: float) -> None:
    """Append `lines` lines to `<kind>.log`, rotating by hand every `every` lines (a forked child)."""
    path = Path(root) / f"{kind}.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    for seq in range(lines):
        os.write(fd, f'{{"message":"{kind}-0-{seq}","pad":"{"x" * (seq % 50)}"}}\n'.encode())
        time.sleep(pace)
        if seq % every != every - 1:
            continue
        rotated = _rotation.rotated_name(path, time.time())
        if kind == "copy":
            shutil.copyfile(path, rotated)
            os.truncate(path, 0)
            continue
        os.rename(path, rotated)
        os.close(fd)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        with open(rotated, "rb") as src, gzip.open(str(rotated) + _rotation.GZ_SUFFIX, "wb") as dst:
            shutil.copyfileobj(src, dst)  # gzip(1): the .gz grows beside its source, removed after
        os.unlink(rotated)
    os.close(fd)


def race(root: Path, cfg: RaceConfig) -> RaceResult:
    """Run the writers against a follower of `root/*.log` and account for every line."""
    rng = random.Random(cfg.seed)

    def jitter(step: str, path: str) -> None:
        if rng.random() < cfg.jitter:
            time.sleep(rng.random() * 0.002)

    def start() -> Follower:
        return Follower([str(root / "*.log")], start_at="beginning", rotate_wait=cfg.rotate_wait, on_step=jitter)

    seen: Counter[str] = Counter()
    follower = start()
    follower.poll(0)  # the baseline: an empty directory
    context = multiprocessing.get_context("fork")
    procs = [
        context.Process(target=_lib_writer, args=(str(root), p, cfg.lines_per_writer, cfg.pace))
        for p in range(cfg.lib_processes)
    ]
    procs += [
        context.Process(target=_hand_writer, args=(str(root), kind, cfg.lines_per_writer, cfg.hand_every, cfg.pace))
        for kind in ("hand", "copy")
    ]
    began = time.monotonic()
    for proc in procs:
        proc.start()
    written = cfg.lines_per_writer * len(procs)
    polls, quiet_since, timed_out = 0, None, True
    while time.monotonic() - began < cfg.timeout:
        for line in follower.poll(5000, max_bytes=rng.choice(BYTE_BUDGETS)):
            match = _ID.search(line)
            seen[match.group("id").decode() if match else repr(line)] += 1
        polls += 1
        if polls % cfg.restart_every == 0:  # a restart from the last snapshot: nothing read since is lost
            snap = follower.snapshot()
            follower.close()
            follower = start()
            follower.restore(snap)
        alive = any(p.is_alive() for p in procs)
        if alive or len(seen) < written:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 3 * cfg.rotate_wait + 0.2:
            timed_out = False
            break  # everything read, every rotated stream finished: a duplicate would have shown by now
        time.sleep(0.002)
    seconds = time.monotonic() - began
    for proc in procs:
        proc.join(timeout=30)
    stats = follower.snapshot()["stats"]
    follower.close()
    expected = {f"lib-{p}-{s}" for p in range(cfg.lib_processes) for s in range(cfg.lines_per_writer)}
    expected |= {f"{k}-0-{s}" for k in ("hand", "copy") for s in range(cfg.lines_per_writer)}
    names = os.listdir(root)
    rotations = sum(1 for n in names if re.search(r"\.log\.\d{8}T", n) and not n.endswith(".gz.tmp"))
    return RaceResult(
        written=written,
        read=sum(seen.values()),
        rotations=rotations,
        seconds=seconds,
        missing=sorted(expected - set(seen)),
        duplicated={k: v for k, v in seen.items() if v > 1 or k not in expected},
        stats=stats,
        timed_out=timed_out,
    )


def throughput(root: Path, files: int, lines_per_file: int, repeats: int = 3) -> tuple[float, float]:
    """Median lines/s of the follower draining rotated files + the active one, and of a bare read+split (anchor)."""
    line = b'{"timestamp":"2026-12-04T14:00:00.000Z","level":"INFO","service":"lib","message":"lib-0-%d","pad":"x"}\n'
    paths = [root / f"lib.log.20261204T1400{i:02d}.000Z" for i in range(files - 1)] + [root / "lib.log"]
    for n, path in enumerate(paths):
        path.write_bytes(b"".join(line % (n * lines_per_file + i) for i in range(lines_per_file)))
    total = files * lines_per_file
    ours, anchor = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        follower = Follower([str(root / "*.log")], start_at="beginning")
        follower.baselined.add(follower.patterns[0])  # read the rotated files too, as after a restart
        got = 0
        while batch := follower.poll(20_000):
            got += len(batch)
        follower.close()
        ours.append(total / (time.perf_counter() - began))
        assert got == total, (got, total)
        began = time.perf_counter()
        got = 0
        for path in paths:
            got += len(path.read_bytes().splitlines())
        anchor.append(total / (time.perf_counter() - began))
    return statistics.median(ours), statistics.median(anchor)


def main(argv: list[str] | None = None) -> int:
    """Race for about --seconds (one short race with --quick); 1 when any run was not exactly once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="race for about this long in all")
    parser.add_argument("--quick", action="store_true", help="one short race (a few seconds)")
    args = parser.parse_args(argv)
    logging.getLogger().handlers.clear()
    rows: list[tuple[str, ...]] = []
    failures, seed, began = 0, 0, time.monotonic()
    while True:
        seed += 1
        cfg = RaceConfig(seed=seed, lines_per_writer=1500 if args.quick else 6000, restart_every=10 + seed % 40)
        with tempfile.TemporaryDirectory(prefix="bench-follower-") as tmp:
            result = race(Path(tmp), cfg)
        failures += not result.exactly_once
        errors = result.stats.get("fs_errors", {})
        rows.append(
            (
                str(seed), str(result.written), str(result.read), str(result.rotations),
                f"{result.seconds:.1f}", str(len(result.duplicated)), str(len(result.missing)),
                str(result.stats.get("truncations")),
                "yes" if result.timed_out else "no", ",".join(f"{k}:{v}" for k, v in sorted(errors.items())) or "-",
            )
        )  # fmt: skip
        if args.quick or time.monotonic() - began >= args.seconds:
            break
    header = ("seed", "written", "read", "rotations", "seconds", "dup", "lost", "truncations", "timed out", "fs errors")
    print(table(rows, header))
    print(f"{sum(int(r[3]) for r in rows)} rotations in all, {failures} run(s) not exactly once")
    with tempfile.TemporaryDirectory(prefix="bench-follower-") as tmp:
        files, per_file = (4, 50_000) if args.quick else (10, 200_000)
        ours, anchor = throughput(Path(tmp), files, per_file)
    print(
        f"\nread throughput, {files} files x {per_file:,} lines, median of 3: follower {ours:,.0f} lines/s, "
        f"anchor (read_bytes + splitlines) {anchor:,.0f} lines/s, ratio {ours / anchor:.2f}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
