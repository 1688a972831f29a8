"""Cost per line of the multi-process-safe log file: RotatingFileOutput vs concurrent-log-handler.

Both write the same ~350-byte seed-shaped line to a file rotated at the same size with gzip on.
Ours receives batches of 64 lines (what the writer thread hands over under load) and batches
of 1 (an idle service); concurrent-log-handler's ConcurrentRotatingFileHandler gets one
pre-built LogRecord per line through ``handle()``, skipping the Logger call so that only the
file handling is compared. Reported: median µs per line of the caller's wall time and of the
whole process's CPU (which includes our background compression), and each ratio to the anchor.

    .venv/bin/python -m benchmarks.bench_file_output [--quick]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from concurrent_log_handler import ConcurrentRotatingFileHandler

from crypto_observability.shared.file_output import RotatingFileOutput

MAX_BYTES = 4 * 1024 * 1024
BACKUP_COUNT = 5
GOAL = 0.5


def payload() -> bytes:
    """Return one seed-shaped INFO record as a rendered line of about 350 bytes."""
    record = {
        "timestamp": "2025-01-15T10:30:00.000Z",
        "service": "market-data",
        "module": "unified_oi_aggregator",
        "level": "INFO",
        "message": "OI aggregation completed",
        "context": {"symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 42.7},
        "docker_container": "crypto-assistant-market-data-1",
        "git_commit": "3f9c2ab1",
        "environment": "production",
        "performance": {"memory_usage_mb": 321.4, "cpu_percent": 12.5},
    }
    return orjson.dumps(record) + b"\n"


def run_ours(directory: Path, lines: int, batch: int) -> tuple[float, float]:
    """Write ``lines`` lines in batches of ``batch``; return (caller wall s, process CPU s)."""
    out = RotatingFileOutput(directory / "ours.log", max_bytes=MAX_BYTES, backup_count=BACKUP_COUNT)
    chunk = payload() * batch
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(lines // batch):
        out.write(chunk)
    wall = time.perf_counter() - wall0
    out.close()  # waits for the background compression, so its CPU is counted
    return wall, time.process_time() - cpu0


def run_anchor(directory: Path, lines: int, batch: int) -> tuple[float, float]:
    """Write ``lines`` lines through ConcurrentRotatingFileHandler; return (wall s, process CPU s)."""
    handler = ConcurrentRotatingFileHandler(
        str(directory / "clh.log"), maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, use_gzip=True
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    text = payload().decode().rstrip("\n")
    record = logging.LogRecord("bench", logging.INFO, __file__, 1, text, None, None)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(lines):
        handler.handle(record)
    wall = time.perf_counter() - wall0
    handler.close()
    return wall, time.process_time() - cpu0


Runner = Callable[[Path, int, int], tuple[float, float]]
CASES: list[tuple[str, Runner, int]] = [
    ("concurrent-log-handler (anchor)", run_anchor, 1),
    ("RotatingFileOutput, batches of 64", run_ours, 64),
    ("RotatingFileOutput, batches of 1", run_ours, 1),
]


def measure(lines: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Run every case ``repeats`` times, interleaved; return median (wall, CPU) µs per line."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in CASES}
    for _ in range(repeats):
        for name, runner, batch in CASES:
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu = runner(Path(tmp), lines, batch)
            samples[name].append((wall, cpu))
    return {
        name: (
            statistics.median(w for w, _ in runs) / lines * 1e6,
            statistics.median(c for _, c in runs) / lines * 1e6,
        )
        for name, runs in samples.items()
    }


def render(results: dict[str, tuple[float, float]], lines: int, repeats: int) -> str:
    """Format the medians and the ratios to the anchor as a small table."""
    anchor_wall, anchor_cpu = results[CASES[0][0]]
    rows = [
        f"file output: {lines} lines of {len(payload())} bytes, rotation at {MAX_BYTES // 2**20} MiB "
        f"with gzip, median of {repeats} runs",
        f"{'case':36} {'wall µs/line':>13} {'ratio':>6} {'CPU µs/line':>12} {'ratio':>6}",
    ]
    for name, (wall, cpu) in results.items():
        rows.append(f"{name:36} {wall:13.2f} {wall / anchor_wall:6.2f} {cpu:12.2f} {cpu / anchor_cpu:6.2f}")
    rows.append(f"goal: ours <= {GOAL} x concurrent-log-handler per line")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    """Run the comparison and print the table; ``--quick`` keeps it under ~30 s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer lines and repeats")
    args = parser.parse_args(argv)
    lines, repeats = (20_000, 3) if args.quick else (100_000, 5)
    results = measure(lines, repeats)
    print(render(results, lines, repeats))
    return results


if __name__ == "__main__":
    main()
