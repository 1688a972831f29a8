"""log-analyzer search beside zcat | jq and zgrep | jq, in one run, on 1 M and 5 M generated records.

    python -m benchmarks.bench_search [--quick] [--records N ...] [--repeat R] [--workdir DIR]

Rows (each a child process; wall time median of R runs, CPU = user + sys of the child and its children):
  request id   ``search --request-id X --format json``, cold (no index: every file read and indexed)
               and warm (index written), beside ``zcat | jq 'select(.request_id == X)'`` and
               ``zgrep X | jq 'select(...)'``.               goals: >= 50 x zcat|jq warm, >= 5 x cold
  message      ``search "Connection pool exhausted" --format json`` (free text: no index helps) beside
               the same two anchors on ``.message``.
  window       ``search --since T --until T+1min``: files read (from --stats) against the files whose
               records overlap the minute.                    goal: only those files are read
Data: ``benchmarks.record_generator``, 20 rotated .gz files + 2 active files (as bench_analyzer writes them).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.bench_analyzer import Row, measure, prepare

MESSAGE = "Connection pool exhausted"


def pick_request_id(data: Path) -> str:
    """Return a request id from the middle of the data (a rotated file half-way through one service)."""
    rotated = sorted(data.glob("market-data.log.*.gz"))
    with gzip.open(rotated[len(rotated) // 2], "rb") as handle:
        for number, line in enumerate(handle):
            record = orjson.loads(line)
            if number > 1000 and record.get("request_id"):
                return str(record["request_id"])
    raise RuntimeError("no request id in the data")


def window_of_one_minute(data: Path) -> tuple[str, str]:
    """Return a one-minute window inside the data (starting 30 s into a rotated file of market-data)."""
    rotated = sorted(data.glob("market-data.log.*.gz"))
    with gzip.open(rotated[len(rotated) // 3], "rb") as handle:
        first = orjson.loads(handle.readline())["timestamp"]
    start = datetime.fromisoformat(first.replace("Z", "+00:00")).replace(microsecond=0) + timedelta(seconds=30)
    return (start.strftime("%Y-%m-%dT%H:%M:%SZ"), (start + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))


def overlapping(data: Path, since: str, until: str) -> int:
    """Count the files holding at least one record inside [since, until) (read by hand, for the check)."""
    lo, hi = since.replace("Z", ".000Z"), until.replace("Z", ".000Z")
    count = 0
    for path in sorted(data.iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            if any(lo <= line[14:38].decode() < hi for line in handle):
                count += 1
    return count


def files_read(cli: list[str], data: Path, since: str, until: str, cache: Path) -> tuple[int, int]:
    """Run the window search once with --stats and return (files read, files in all)."""
    proc = subprocess.run([*cli, "search", str(data), "--since", since, "--until", until, "--format", "json",
                           "--cache-dir", str(cache), "--stats"], capture_output=True, text=True, check=False)
    stats = dict(item.split("=", 1) for item in proc.stderr.split() if "=" in item)
    return int(stats["files_read"]), int(stats["files"])


def bench(records: int, repeat: int, workdir: Path) -> dict[str, Row]:
    """Measure every row on one data size; return them by name."""
    t0 = time.perf_counter()
    data = prepare(workdir, records)
    print(f"\ndata: {records:,} records in {data} ({sum(p.stat().st_size for p in data.iterdir()) >> 20} MB on disk, "
          f"prepared in {time.perf_counter() - t0:.1f} s); {repeat} run(s) per row, median shown")
    files = " ".join(shlex.quote(str(p)) for p in sorted(data.iterdir()))
    cache = workdir / f"search-cache-{records}"
    cli = [sys.executable, "-m", "crypto_observability.log_analyzer"]
    rid = pick_request_id(data)
    rows: dict[str, Row] = {}

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    search_rid = [*cli, "search", str(data), "--request-id", rid, "--format", "json", "--cache-dir", str(cache)]
    rows["request id: zcat | jq"] = measure([f"zcat -f {files} | jq -c 'select(.request_id == \"{rid}\")'"], 1,
                                            shell=True)
    rows["request id: zgrep | jq"] = measure([f"zgrep -h -F {rid} {files} | jq -c 'select(.request_id == \"{rid}\")'"],
                                             repeat, shell=True)
    rows["request id: search, cold"] = measure(search_rid, repeat, before=cold)
    rows["request id: search, warm"] = measure(search_rid, repeat)
    jq_message = f"select(.message | contains(\"{MESSAGE}\"))"
    rows["message: zcat | jq"] = measure([f"zcat -f {files} | jq -c '{jq_message}'"], 1, shell=True)
    rows["message: zgrep | jq"] = measure([f"zgrep -h -F '{MESSAGE}' {files} | jq -c '{jq_message}'"], repeat,
                                          shell=True)
    rows["message: search"] = measure([*cli, "search", str(data), MESSAGE, "--format", "json", "--cache-dir",
                                       str(cache)], repeat)
    since, until = window_of_one_minute(data)
    rows["one-minute window: search, warm"] = measure([*cli, "search", str(data), "--since", since, "--until", until,
                                                       "--format", "json", "--cache-dir", str(cache)], repeat)
    read, total = files_read(cli, data, since, until, cache)
    need = overlapping(data, since, until)
    print(render(rows))
    print(f"one-minute window {since} .. {until}: read {read} of {total} files; {need} hold records of that "
          f"minute -> only the overlapping files read: {read == need}")
    return rows


def _ratio(rows: dict[str, Row], name: str, index: int) -> str:
    topic = name.split(":")[0]
    anchor = rows.get(f"{topic}: zcat | jq")
    if anchor is None or "search" not in name:
        return "-"
    return f"{anchor[index] / rows[name][index]:.1f} x"


def render(rows: dict[str, Row]) -> str:
    """Return the table: wall and CPU seconds, and zcat|jq / row for our rows."""
    lines = [f"{'row':34} {'wall s':>7} {'zcat|jq / row':>14} {'cpu s':>7} {'zcat|jq / row':>14} {'peak MB':>8}"]
    for name, (wall, cpu, peak) in rows.items():
        lines.append(f"{name:34} {wall:7.2f} {_ratio(rows, name, 0):>14} {cpu:7.2f} {_ratio(rows, name, 1):>14} "
                     f"{peak / (1 << 20):8.0f}")
    for index, kind in ((0, "wall"), (1, "cpu")):
        jq = rows["request id: zcat | jq"][index]
        warm, cold = rows["request id: search, warm"][index], rows["request id: search, cold"][index]
        lines.append(f"goals ({kind}): request id warm >= 50 x zcat|jq: {jq / warm >= 50} ({jq / warm:.0f} x); "
                     f"cold >= 5 x: {jq / cold >= 5} ({jq / cold:.1f} x)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every row on each size and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, action="append", help="records (repeatable) [1,000,000 and 5,000,000]")
    parser.add_argument("--quick", action="store_true", help="200,000 records")
    parser.add_argument("--repeat", type=int, default=None, help="runs per row [3 quick, 3 full]")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "bench-search")
    args = parser.parse_args(argv)
    if not shutil.which("jq") or not shutil.which("zgrep"):
        print("jq and zgrep are needed for the anchors (apt-get install -y jq gzip)")
        return 1
    sizes = [200_000] if args.quick else (args.records or [1_000_000, 5_000_000])
    for records in sizes:
        bench(records, args.repeat or 3, args.workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
