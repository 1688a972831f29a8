"""The ClickHouse store (embedded chDB) beside the file road, in one run, on the same generated records.

    python -m benchmarks.bench_clickhouse [--records N ...] [--quick] [--repeat R] [--workdir DIR]

Rows, per size (each step timed inside a child process, after its imports; medians of R runs where noted):
  load           ``clickhouse load`` of every file into a fresh store (median of R stores): records/s, and the
                 store's bytes on disk beside the gzip files' bytes
  file report    the analyzer's full report (``build_dashboard``) from the files: cold (no cache) and warm (its
                 cache of rotated files written by a first run)                                      the anchor
  store report   the same report on the Dataset ``load_store`` computes from the store, cold (a fresh process
                 opening the store) and warm (the same process again)         goal <= 0.5 x the file road's cold
  lookup         every record of one request id, in time order: from the store's ``logs`` (request-id bloom
                 index; cold = first query of a process, warm = median of the next R) against the file road's
                 ``trace`` read of the same id (no index), and against the cold file report (the issue's words)
                                                                                      goal <= 0.1 x the cold report
The load average is printed beside each size: on a shared machine wall time is noisy, compare the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from benchmarks._timing import table
from benchmarks.record_generator import write_log_files

SKIPPED = "report from the store: skipped (load_store not available)"

LOAD = """
import sys, time
import orjson
from crypto_observability.log_analyzer.store.connection import connect, parse_store_url
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import migrate
from crypto_observability.log_analyzer.store.status import store_status
address = parse_store_url(sys.argv[1])
client = connect(address, create=True)  # a new store for each load
migrate(client, address.database)
start = time.perf_counter()
result = Loader(client, address.database).load([sys.argv[2]])
seconds = time.perf_counter() - start
print(orjson.dumps({"seconds": seconds, "records": result.records,
                    "bytes": store_status(client, address.database)["bytes_on_disk"]}).decode())
"""

FILE_REPORT = """
import sys, time
from pathlib import Path
import orjson
from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import load
cache = Path(sys.argv[2]) if sys.argv[2] != "-" else None
start = time.perf_counter()
ds = load([sys.argv[1]], cache_dir=cache)
doc = build_dashboard(ds)
ds.close()
print(orjson.dumps({"seconds": time.perf_counter() - start}).decode())
"""

STORE_REPORT = """
import sys, time
import orjson
import clickhouse_connect  # imported before the clock starts, as the file road's engine is
from crypto_observability.log_analyzer.dashboard import build_dashboard
from benchmarks.bench_clickhouse import _store_dataset
times = []
for _ in range(2):  # cold: this process opens the store; warm: the same question again
    start = time.perf_counter()
    ds = _store_dataset(sys.argv[1])
    if ds is None:
        print(orjson.dumps({"skipped": True}).decode())
        sys.exit(0)
    build_dashboard(ds)
    ds.close()
    times.append(time.perf_counter() - start)
print(orjson.dumps({"cold": times[0], "warm": times[1]}).decode())
"""

STORE_LOOKUP = """
import sys, time, statistics
import orjson
from crypto_observability.log_analyzer.store.connection import connect, parse_store_url
address = parse_store_url(sys.argv[1])
client = connect(address)
client.query("SELECT 1")  # the engine is up: time the question, not the start
sql = f"SELECT Record FROM {address.database}.logs WHERE RequestId = {{r:String}} ORDER BY Timestamp"
times, rows = [], 0
for _ in range(1 + int(sys.argv[3])):
    start = time.perf_counter()
    rows = len(client.query(sql, parameters={"r": sys.argv[2]}).result_rows)
    times.append(time.perf_counter() - start)
print(orjson.dumps({"cold": times[0], "warm": statistics.median(times[1:]), "rows": rows}).decode())
"""

FILE_TRACE = """
import sys, time
import orjson
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.search_files import SearchOptions, read_records, search
from crypto_observability.log_analyzer.search_query import SearchQuery
from crypto_observability.log_analyzer.trace import build_trace, step_from_record
start = time.perf_counter()
query = SearchQuery.parse(Filters(), request_ids=[sys.argv[2]])
records = list(read_records(search([sys.argv[1]], query, SearchOptions(cache_dir=None))))
build_trace(sys.argv[2], [step_from_record(r) for r in records])
print(orjson.dumps({"seconds": time.perf_counter() - start, "rows": len(records)}).decode())
"""


def _store_dataset(url: str) -> Any:
    """Return the Dataset the store computes (``load_store``), or None, saying so, where that is not built yet."""
    try:
        from crypto_observability.log_analyzer.store.dataset import load_store
    except ImportError:
        print(SKIPPED)
        return None
    return load_store(url)


def _child(script: str, *args: str) -> dict[str, Any]:
    """Run a timing script in a fresh interpreter (nothing cached in this process); return its JSON line."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark step failed: {done.stderr[-1500:]}")
    return dict(orjson.loads(done.stdout.strip().splitlines()[-1]))


def _a_request_id(files: list[Path]) -> str:
    """Return the request id of the first journey in the oldest rotated file."""
    with gzip.open(files[0], "rb") if files[0].suffix == ".gz" else open(files[0], "rb") as handle:
        for line in handle:
            request = orjson.loads(line).get("request_id")
            if request:
                return str(request)
    raise RuntimeError("no request id in the generated records")


def _load_average() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def bench(records: int, repeat: int, workdir: Path) -> list[tuple[str, ...]]:
    """Measure one size; return its table rows."""
    logs = workdir / f"logs-{records}"
    start = datetime.now(UTC) - timedelta(days=1)  # inside the store's 30-day retention
    files = write_log_files(logs, records, seed=1, rotate_every=max(1000, records // 40), start=start)
    gz_bytes = sum(f.stat().st_size for f in files if f.suffix == ".gz")
    all_bytes = sum(f.stat().st_size for f in files)
    before = _load_average()
    loads = []
    for run in range(repeat):  # the last store stays for the questions below
        store = workdir / f"store-{records}-{run}"
        if run:
            shutil.rmtree(workdir / f"store-{records}-{run - 1}", ignore_errors=True)
        loads.append(_child(LOAD, f"chdb://{store}", str(logs)))
    url = f"chdb://{store}"
    load = statistics.median(x["seconds"] for x in loads)
    stored = loads[-1]["bytes"]
    request_id = _a_request_id(files)
    cache = workdir / f"cache-{records}"
    cold = statistics.median(_child(FILE_REPORT, str(logs), "-")["seconds"] for _ in range(repeat))
    _child(FILE_REPORT, str(logs), str(cache))  # writes the cache of the rotated files
    warm = statistics.median(_child(FILE_REPORT, str(logs), str(cache))["seconds"] for _ in range(repeat))
    trace = statistics.median(_child(FILE_TRACE, str(logs), request_id)["seconds"] for _ in range(repeat))
    lookup = _child(STORE_LOOKUP, url, request_id, str(max(3, repeat)))
    store_report = _child(STORE_REPORT, url)
    after = _load_average()
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    n = f"{records:,}"
    rows = [
        (n, f"load ({len(loads)} runs)", f"{load:.1f} s", f"{records / load:,.0f} records/s",
         f"store {stored / 1e6:.1f} MB vs files {all_bytes / 1e6:.1f} MB ({gz_bytes / 1e6:.1f} MB gzip): "
         f"{stored / all_bytes:.2f} x"),
        (n, "file report, cold", f"{cold:.2f} s", "1 x", "the anchor"),
        (n, "file report, warm (cache)", f"{warm:.2f} s", f"{warm / cold:.3f} x cold file report", ""),
    ]
    if store_report.get("skipped"):
        print(SKIPPED)
        rows.append((n, "store report", "skipped", "", "load_store not available"))
    else:
        rows += [(n, "store report, cold", f"{store_report['cold']:.2f} s",
                  f"{store_report['cold'] / cold:.3f} x cold file report", "goal <= 0.5 x"),
                 (n, "store report, warm", f"{store_report['warm']:.2f} s",
                  f"{store_report['warm'] / warm:.3f} x warm file report", "")]
    rows += [
        (n, "file trace (one request id)", f"{trace:.2f} s", f"{trace / cold:.3f} x cold file report",
         f"{lookup['rows']} records"),
        (n, "store lookup, cold", f"{lookup['cold']:.3f} s", f"{lookup['cold'] / trace:.4f} x file trace",
         f"{lookup['cold'] / cold:.4f} x cold file report (goal <= 0.1 x)"),
        (n, "store lookup, warm", f"{lookup['warm']:.3f} s", f"{lookup['warm'] / trace:.4f} x file trace",
         f"{lookup['warm'] / cold:.4f} x cold file report"),
        (n, "machine", "", "", f"{before} at the start, {after} at the end (2 cores)"),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--quick", action="store_true", help="one small size, one run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    sizes, repeat = ([50_000], 1) if args.quick else (args.records, args.repeat)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-clickhouse-"))
    started = time.perf_counter()
    try:
        rows = [row for n in sizes for row in bench(n, repeat, workdir)]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows, ("records", "step", "median", "rate / ratio", "note")))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
