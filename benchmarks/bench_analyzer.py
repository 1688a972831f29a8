"""log-analyzer beside its anchors, in one run: DuckDB's raw read, jq, and itself on a second run.

    python -m benchmarks.bench_analyzer [--records N] [--quick] [--repeat R] [--workdir DIR]

Rows (each command runs in a child process; wall time median of R runs, peak RSS from wait4):
  anchor   DuckDB raw typed read_ndjson + one aggregate over the same files
  report   ``log-analyzer report --format json`` with an empty cache   goal <= 2 x anchor, peak <= 1 GiB
  report2  the same after appending 1 % more lines (warm cache)       goal <= 0.2 x report
  jq       the equivalent jq pipeline for error patterns (zcat | jq | sort | uniq -c), skipped without jq
  errors   ``log-analyzer errors --format json``, --no-cache and warm   goal >= 20 x faster than jq
  floor    DuckDB counting the lines of the same files (decompress + split, no JSON): what any first read
           of the files costs at least, so jq / floor bounds the speed-up a cold ``errors`` can reach

Wall time on a shared machine is noisy: the CPU column (user + sys of the child) is the steadier one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.record_generator import DEFAULT_START, SERVICES, generate_records, write_log_files

GIB = 1 << 30
ANCHOR = """
import duckdb, sys
from crypto_observability.log_analyzer.schema import columns_literal
files = sys.argv[1:]
typed = columns_literal().replace("'timestamp': 'VARCHAR'", "'timestamp': 'TIMESTAMP'")  # one fixed format, typed
con = duckdb.connect(config={"memory_limit": "1GB"})
lst = "[" + ", ".join("'" + f + "'" for f in files) + "]"
print(con.execute(f"SELECT service, count(*), avg(context.response_time_ms) FROM read_ndjson({lst}, "
                  f"columns={typed}, timestampformat='%Y-%m-%dT%H:%M:%S.%gZ', ignore_errors=true) "
                  "GROUP BY 1").fetchall())
"""
FLOOR = """
import duckdb, sys
con = duckdb.connect(config={"memory_limit": "1GB"})
lst = "[" + ", ".join("'" + f + "'" for f in sys.argv[1:]) + "]"
print(con.execute(f"SELECT count(*) FROM read_csv({lst}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', "
                  "escape='', header=false, auto_detect=false)").fetchall())
"""
JQ = ("zcat -f {files} | jq -r 'select(.level == \"WARNING\" or .level == \"ERROR\" or .level == \"CRITICAL\") "
      "| .message' | sort | uniq -c | sort -rn | head -25")


def run(argv: list[str], shell: bool = False) -> tuple[float, float, int]:
    """Run a child process to completion; return (wall seconds, CPU seconds, peak RSS bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv if not shell else argv[0], shell=shell, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0][:80]} failed: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


Row = tuple[float, float, int]


def measure(argv: list[str], repeat: int, shell: bool = False, before: object = None) -> Row:
    """Return the median wall time, the median CPU time and the largest peak RSS over ``repeat`` runs."""
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        if callable(before):
            before()
        elapsed, cpu, peak = run(argv, shell)
        times.append(elapsed)
        cpus.append(cpu)
        peaks.append(peak)
    return statistics.median(times), statistics.median(cpus), max(peaks)


def prepare(workdir: Path, records: int) -> Path:
    """Write (once per size) the benchmark logs: rotated .gz files plus a small active file per service.

    The active files are kept aside too, so every run starts from the same data (the append row grows them).
    """
    data, pristine = workdir / f"logs-{records}", workdir / f"active-{records}"
    if not (pristine / "DONE").exists():
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(pristine, ignore_errors=True)
        per_file = max(1000, records // len(SERVICES) // 10)
        write_log_files(data, records, seed=0, rotate_every=per_file, compresslevel=1)
        pristine.mkdir(parents=True)
        for service in SERVICES:
            shutil.copy2(data / f"{service}.log", pristine / f"{service}.log")
        (pristine / "DONE").write_text("ok")
    restore_active(data, pristine)
    return data


def restore_active(data: Path, pristine: Path) -> None:
    """Put back the active files as generated (undoing an earlier run's append)."""
    for service in SERVICES:
        shutil.copy2(pristine / f"{service}.log", data / f"{service}.log")


def append_more(data: Path, records: int) -> None:
    """Append 1 % more records (later timestamps) to the active files, as a running service would."""
    import orjson

    start = DEFAULT_START.replace(year=2025, day=DEFAULT_START.day + 3)
    handles = {s: open(data / f"{s}.log", "ab") for s in SERVICES}  # noqa: SIM115 - closed below
    try:
        for rec in generate_records(max(100, records // 100), seed=1, start=start):
            handles[str(rec["service"])].write(orjson.dumps(rec) + b"\n")
    finally:
        for handle in handles.values():
            handle.close()


def main(argv: list[str] | None = None) -> int:
    """Run every row, print the table of medians, ratios and peaks, and return 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 records")
    parser.add_argument("--repeat", type=int, default=None, help="runs per row [3 quick, 1 full]")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "bench-analyzer")
    args = parser.parse_args(argv)
    records = 200_000 if args.quick else args.records
    repeat = args.repeat or (3 if args.quick else 1)
    t0 = time.perf_counter()
    data = prepare(args.workdir, records)
    print(f"data: {records:,} records in {data} ({sum(p.stat().st_size for p in data.iterdir()) >> 20} MB on disk,"
          f" prepared in {time.perf_counter() - t0:.1f} s); {repeat} run(s) per row, median shown")
    files = sorted(str(p) for p in data.iterdir())
    py = sys.executable
    cache = args.workdir / "cache"
    cli = [py, "-m", "crypto_observability.log_analyzer"]
    rows: dict[str, Row] = {}
    rows["anchor: duckdb raw read + aggregate"] = measure([py, "-c", ANCHOR, *files], repeat)
    report = [*cli, "report", str(data), "--format", "json", "--cache-dir", str(cache)]
    rows["report (empty cache)"] = measure(report, repeat, before=lambda: shutil.rmtree(cache, True))
    append_more(data, records)
    rows["report again after append (warm cache)"] = measure(report, repeat)
    rows["errors (--no-cache)"] = measure([*cli, "errors", str(data), "--format", "json", "--no-cache"], repeat)
    rows["errors (warm cache)"] = measure([*cli, "errors", str(data), "--format", "json", "--cache-dir",
                                           str(cache)], repeat)
    rows[FLOOR_ROW] = measure([py, "-c", FLOOR, *files], repeat)
    if shutil.which("jq"):
        rows[JQ_ROW] = measure([JQ.format(files=" ".join(files))], 1, shell=True)
    else:
        print("jq not on PATH: skipping the jq row (apt-get install -y jq)")
    print(render(rows))
    return 0


JQ_ROW = "anchor: zcat | jq | sort | uniq -c"
FLOOR_ROW = "floor: duckdb line count, no JSON"


def _ratio(name: str, rows: dict[str, Row], index: int) -> str:
    value = rows[name][index]
    if name.startswith("report again"):
        return f"{value / rows['report (empty cache)'][index]:.3f} x report"
    if name.startswith("report"):
        return f"{value / rows['anchor: duckdb raw read + aggregate'][index]:.2f} x anchor"
    if (name.startswith("errors") or name == FLOOR_ROW) and JQ_ROW in rows:
        return f"jq / {name.split()[0].rstrip(':')} = {rows[JQ_ROW][index] / value:.1f}"
    return "-"


def render(rows: dict[str, Row]) -> str:
    """Return the table (wall and CPU: user + sys of the child and its children) and the goals line."""
    lines = [f"\n{'row':42} {'wall s':>7} {'ratio (wall)':>20} {'cpu s':>7} {'ratio (cpu)':>20} {'peak MB':>8}"]
    for name, (seconds, cpu, peak) in rows.items():
        lines.append(f"{name:42} {seconds:7.2f} {_ratio(name, rows, 0):>20} {cpu:7.2f} {_ratio(name, rows, 1):>20} "
                     f"{peak / (1 << 20):8.0f}")
    for index, name in ((0, "wall"), (1, "cpu")):
        anchor, first = rows["anchor: duckdb raw read + aggregate"][index], rows["report (empty cache)"][index]
        second = rows["report again after append (warm cache)"][index]
        errors, cold = rows["errors (warm cache)"][index], rows["errors (--no-cache)"][index]
        jq = (f"; errors warm >= 20 x jq: {rows[JQ_ROW][index] / errors >= 20}; errors --no-cache >= 20 x jq: "
              f"{rows[JQ_ROW][index] / cold >= 20}" if JQ_ROW in rows else "")
        lines.append(f"{'' if index else chr(10)}goals ({name}): report <= 2 x anchor: {first / anchor <= 2}; "
                     f"peak <= 1 GiB: {rows['report (empty cache)'][2] <= GIB}; second report <= 0.2 x first: "
                     f"{second / first <= 0.2}{jq}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
