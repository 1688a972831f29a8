"""The ClickHouse store (embedded chDB) beside the file road, in one run, on the same generated records.

    python -m benchmarks.bench_clickhouse [--records N ...] [--quick] [--repeat R] [--workdir DIR]

Rows, per size (each step in a child process; wall time median of R runs):
  load        ``log-analyzer clickhouse load`` of every file into a fresh store: records/s, and the store's
              bytes on disk beside the gzip files' bytes
  file road   ``log-analyzer report --format json --no-cache``: the cold report from the files (the anchor)
  summaries   the store's per-minute counts by service and level plus latency buckets by service, read from
              the materialized views (what a report over the store reads instead of rows)   goal <= 0.5 x file road
  lookup      every record of one request id, in time order, from the store                goal <= 0.1 x file road

The report itself is not yet computed on the store (``--source``): the summaries row is the part of it the
store already answers. Wall time on a shared machine is noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._timing import table
from benchmarks.record_generator import write_log_files

QUERY = """
import sys, time
from tools.log_analyzer.store.connection import connect, parse_store_url
address = parse_store_url(sys.argv[1])
client = connect(address)
db = address.database
client.query("SELECT 1")  # the engine is up: time the question, not the start
start = time.perf_counter()
if sys.argv[2] == "lookup":
    rows = client.query(f"SELECT Record FROM {db}.logs WHERE RequestId = {{r:String}} ORDER BY Timestamp",
                        parameters={"r": sys.argv[3]}).result_rows
else:
    rows = client.query(f"SELECT service, level, minute, sum(n) FROM {db}.counts GROUP BY ALL").result_rows
    rows += client.query(f"SELECT service, bin, sum(n), min(lo), max(hi) FROM {db}.latency GROUP BY ALL").result_rows
print(len(rows), time.perf_counter() - start)
"""


def _child(argv: list[str]) -> tuple[float, str]:
    """Run a child to completion; return (wall seconds, its stdout)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {done.stderr[-800:]}")
    return time.perf_counter() - start, done.stdout


def _analyzer(*args: str) -> list[str]:
    return [sys.executable, "-m", "tools.log_analyzer", *args]


def _a_request_id(files: list[Path]) -> str:
    """Return the request id of a record in the middle of the oldest rotated file."""
    import orjson

    with gzip.open(files[0], "rb") if files[0].suffix == ".gz" else open(files[0], "rb") as handle:
        for line in handle:
            request = orjson.loads(line).get("request_id")
            if request:
                return str(request)
    raise RuntimeError("no request id in the generated records")


def bench(records: int, repeat: int, workdir: Path) -> list[tuple[str, ...]]:
    """Measure one size; return its table rows."""
    logs = workdir / f"logs-{records}"
    start = datetime.now(UTC) - timedelta(days=1)  # inside the store's retention
    files = write_log_files(logs, records, seed=1, rotate_every=max(1000, records // 40), start=start)
    gz_bytes = sum(f.stat().st_size for f in files)
    loads, report, summaries, lookups = [], [], [], []
    size_on_disk = 0
    for run in range(repeat):
        url = f"chdb://{workdir / f'store-{records}-{run}'}"
        _child(_analyzer("clickhouse", "init", "--url", url))
        loads.append(_child(_analyzer("clickhouse", "load", "--url", url, str(logs)))[0])
        status = _child(_analyzer("clickhouse", "status", "--url", url))[1]
        size_on_disk = int(__import__("orjson").loads(status)["bytes_on_disk"])
        summaries.append(float(_child([sys.executable, "-c", QUERY, url, "summaries"])[1].split()[1]))
        lookups.append(float(_child([sys.executable, "-c", QUERY, url, "lookup", _a_request_id(files)])[1]
                             .split()[1]))
        report.append(_child(_analyzer("report", str(logs), "--format", "json", "--no-cache"))[0])
        shutil.rmtree(workdir / f"store-{records}-{run}", ignore_errors=True)
    load, file_road = statistics.median(loads), statistics.median(report)
    summary, lookup = statistics.median(summaries), statistics.median(lookups)
    return [
        (f"{records:,}", "load", f"{load:.2f} s", f"{records / load:,.0f} records/s",
         f"store {size_on_disk / 1e6:.1f} MB vs gzip {gz_bytes / 1e6:.1f} MB ({size_on_disk / gz_bytes:.2f} x)"),
        (f"{records:,}", "file road report (cold)", f"{file_road:.2f} s", "", "anchor"),
        (f"{records:,}", "store summaries", f"{summary:.3f} s", f"{summary / file_road:.4f} x file road",
         "goal <= 0.5 x"),
        (f"{records:,}", "store request-id lookup", f"{lookup:.3f} s", f"{lookup / file_road:.4f} x file road",
         "goal <= 0.1 x"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--quick", action="store_true", help="one small size, one run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    sizes, repeat = ([100_000], 1) if args.quick else (args.records, args.repeat)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-clickhouse-"))
    try:
        rows = [row for n in sizes for row in bench(n, repeat, workdir)]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows, ("records", "step", "median", "rate / ratio", "note")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
