"""log-monitor benchmark: records/s with the default rules vs a bare orjson loop; ERROR-to-webhook latency;
a soak of distinct error fingerprints (new_fingerprint) showing flat memory and step time."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import yaml

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.config import load_config, parse_config
from crypto_observability.log_monitor.monitor import Monitor


def _records(n: int, now: float) -> bytes:
    out = []
    for i in range(n):
        svc = "market-data" if i % 3 else "telegram-bot"
        ts = datetime.fromtimestamp(now - 60 + i * 60 / n, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        rec = {
            "timestamp": ts,
            "service": svc,
            "module": "api",
            "level": "ERROR" if i % 50 == 0 else "INFO",
            "message": "GET /price/{symbol} 200",
            "context": {
                "method": "GET",
                "path": "/price/{symbol}",
                "status_code": 200,
                "response_time_ms": 5.0 + i % 300,
            },
            "docker_container": None,
            "git_commit": None,
            "environment": "production",
            "performance": {"memory_usage_mb": 80.0, "cpu_percent": 3.0},
            "event": "http_request",
        }
        out.append(orjson.dumps(rec))
    return b"\n".join(out) + b"\n"


class Throughput(NamedTuple):
    """Records/s of the monitor and of the anchor, per second of wall time and per second of CPU time."""

    rate: float
    anchor: float
    cpu_rate: float  # what the load of other processes on a shared machine does not inflate
    cpu_anchor: float


def throughput(n: int, root: Path) -> Throughput:
    """The monitor with config/monitor.yml's rules vs the anchor, over the same file."""
    log = root / "market-data.log"
    log.write_bytes(_records(n, time.time()))
    t, cpu = time.perf_counter(), time.process_time()
    with open(log, "rb") as f:
        for line in f:
            orjson.loads(line)
    anchor, cpu_anchor = n / (time.perf_counter() - t), n / (time.process_time() - cpu)
    base = load_config("config/monitor.yml", {"LOG_DIR": str(root), "MONITOR_STATE_DB": str(root / "t.db")})
    cfg = base.model_copy(update={"start_at": "beginning", "batch_lines": 50_000})
    m = Monitor(cfg, notifiers={"console": _Null()})
    t, cpu = time.perf_counter(), time.process_time()
    done = 0
    while done < n:
        done += m.step()
    rate, cpu_rate = n / (time.perf_counter() - t), n / (time.process_time() - cpu)
    m.close()
    return Throughput(rate, anchor, cpu_rate, cpu_anchor)


class _Null:
    def send(self, notification: dict[str, Any]) -> Any:
        from crypto_observability.log_monitor.notifiers import DeliveryResult

        return DeliveryResult(True)


def latency(samples: int, root: Path) -> list[float]:
    """Seconds from an ERROR line appended to its webhook arriving, one alert per sample."""
    arrived: dict[str, float] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            for a in body["alerts"]:
                arrived.setdefault(a["labels"].get("context.n", ""), time.time())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = parse_config(
        yaml.safe_load(f"""
state_db: {root / "l.db"}
sources: [{root / "lat.log"}]
start_at: beginning
poll_interval: 0.05
defaults: {{channels: [hook]}}
rules: [{{name: err, type: match, where: {{level: ERROR}}, by: [context.n], window: 1h}}]
channels: {{hook: {{type: webhook, url: "http://127.0.0.1:{server.server_address[1]}/"}}}}
""")
    )
    m = Monitor(cfg)
    stop = threading.Event()
    runner = threading.Thread(target=m.run, kwargs={"stop": stop}, daemon=True)
    runner.start()
    sent: dict[str, float] = {}
    for i in range(samples):
        rec = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "service": "s",
            "module": "m",
            "level": "ERROR",
            "message": "boom",
            "context": {"n": i},
        }
        sent[str(i)] = time.time()
        with open(root / "lat.log", "ab") as f:
            f.write(orjson.dumps(rec) + b"\n")
        deadline = time.time() + 5
        while str(i) not in arrived and time.time() < deadline:
            time.sleep(0.005)
    stop.set()
    runner.join(timeout=10)
    m.close()
    server.shutdown()
    return [arrived[k] - sent[k] for k in sent if k in arrived]


class SoakRow(NamedTuple):
    """One soak checkpoint: medians over the steps since the previous one, and what is held now."""

    fingerprints: int
    step_ms: float  # wall time
    step_cpu_ms: float  # CPU time of the stepping thread: what the load of other processes does not inflate
    rss_mib: float
    alerts_held: int  # in memory
    alert_rows: int  # in the state database's alerts table


def soak(fingerprints: int, per_step: int, root: Path, every: int) -> Iterator[SoakRow]:
    """Feed `fingerprints` distinct error fingerprints, `per_step` a second, through the rule, engine and store.

    Yields a row every `every` fingerprints, as it goes, so a partial run is still informative.
    """
    import psutil

    from crypto_observability.log_monitor.engine import Engine
    from crypto_observability.log_monitor.records import TS_KEY, Batch
    from crypto_observability.log_monitor.rules_logs import NewFingerprintRule
    from crypto_observability.log_monitor.store import Store

    rules = [{"name": "new", "type": "new_fingerprint", "hold": SOAK_HOLD_S}]
    cfg = parse_config({"sources": ["x"], "rules": rules, "resolved_retention": SOAK_RETENTION_S})
    rc = cfg.rules[0]
    assert isinstance(rc, c.NewFingerprintRule)
    rule, engine, store = NewFingerprintRule(rc), Engine(cfg, []), Store(root / "soak.db")
    state: dict[str, Any] = {}
    now, fed, walls, cpus = 1_767_225_600.0, 0, [], []
    proc = psutil.Process()
    try:
        while fed < fingerprints:
            batch = Batch(
                {"service": "s", "level": "ERROR", "error": {"fingerprint": f"fp{fed + i}", "type": "E"}, TS_KEY: now}
                for i in range(per_step)
            )
            t, cpu = time.perf_counter(), time.thread_time()
            engine.observe({"new": rule.evaluate(batch, now, state)}, now)
            engine.notify(now, [])
            alerts, history, outbox, evicted = engine.drain()
            store.commit({"rule:new": state}, alerts, history, outbox, evicted)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - t)
            fed, now = fed + per_step, now + 1.0
            if fed % every < per_step or fed >= fingerprints:
                (rows,) = store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()
                yield SoakRow(
                    fed,
                    statistics.median(walls) * 1000,
                    statistics.median(cpus) * 1000,
                    proc.memory_info().rss / 2**20,
                    len(engine.alerts),
                    rows,
                )
                walls, cpus = [], []
    finally:
        store.close()


SOAK_HOLD_S = 2  # a new fingerprint's alert fires for 2 s, then resolves
SOAK_RETENTION_S = 60  # resolved_retention: 60,000 closed alerts a minute, so the 10,000 cap is what binds
SOAK_RSS_GROWTH = 0.05  # flat: RSS within +5% of the baseline checkpoint's
SOAK_STEP_GROWTH = 1.25  # and the median step CPU time within 1.25x of it


def soak_verdict(rows: list[SoakRow], held_bound: int) -> str:
    """Flat or not, judged against the second checkpoint (past the warm-up in which the closed-alert cap fills)."""
    if len(rows) < 3:
        return "too few checkpoints for a verdict (need 3)"
    base, later = rows[1], rows[2:]
    rss = max(r.rss_mib for r in later) / base.rss_mib - 1
    step = max(r.step_cpu_ms for r in later) / base.step_cpu_ms
    held = max(r.alerts_held for r in rows)
    ok = rss <= SOAK_RSS_GROWTH and step <= SOAK_STEP_GROWTH and held <= held_bound
    return (
        f"{'FLAT' if ok else 'NOT FLAT'}: after {base.fingerprints:,} fingerprints, RSS grew at most {rss:+.1%}"
        f" (allowed +{SOAK_RSS_GROWTH:.0%}), step CPU at most {step:.2f}x (allowed {SOAK_STEP_GROWTH}x);"
        f" alerts held at most {held:,} (bound {held_bound:,})"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print a table."""
    ap = argparse.ArgumentParser(prog="bench_monitor")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--soak", type=int, default=None, help="distinct fingerprints for the soak (default 1,000,000)")
    ap.add_argument("--only", choices=("throughput", "soak"), help="run only this part")
    ap.add_argument(
        "--against", metavar="TREE", action="append", help="only records/s, alternating with other trees (repeatable)"
    )
    ap.add_argument("--one-run", type=int, metavar="N", help=argparse.SUPPRESS)  # one --against run
    args = ap.parse_args(argv)
    if args.one_run:
        with tempfile.TemporaryDirectory() as tmp:
            print(*throughput(args.one_run, Path(tmp)))
        return
    if args.against:
        compare_trees([Path(t) for t in args.against], 100_000, 7 if args.quick else 11)
        return
    if args.only != "soak":
        run_throughput(args.quick)
    if args.only != "throughput":
        run_soak(args.soak or (100_000 if args.quick else 1_000_000))


def run_throughput(quick: bool) -> None:
    """Records/s against the anchor, and ERROR -> webhook latency."""
    n, runs, samples = (100_000, 3, 30) if quick else (400_000, 5, 100)
    runs_got = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            runs_got.append(throughput(n, Path(tmp)))
    rates, anchors = [r.rate for r in runs_got], [r.anchor for r in runs_got]
    cpu, cpu_anchor = statistics.median(r.cpu_rate for r in runs_got), statistics.median(r.cpu_anchor for r in runs_got)
    with tempfile.TemporaryDirectory() as tmp:
        lat = sorted(latency(samples, Path(tmp)))
    mr, ma = statistics.median(rates), statistics.median(anchors)
    print(f"{'measure':<44}{'log-monitor':>14}{'anchor':>14}{'ratio':>8}")
    print(f"{f'records/s, default rules (median of {runs})':<44}{mr:>14,.0f}{ma:>14,.0f}{mr / ma:>8.2f}")
    print(f"{'records per CPU second, same runs':<44}{cpu:>14,.0f}{cpu_anchor:>14,.0f}{cpu / cpu_anchor:>8.2f}")
    if lat:
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print(
            f"{'ERROR line -> webhook p50 / p99 (s)':<44}{statistics.median(lat):>14.3f}{p99:>14.3f}"
            f"{'':>8}  ({len(lat)}/{samples} arrived)"
        )
    print("goals: >= 50,000 records/s; p99 <= 1 s", flush=True)


def compare_trees(others: list[Path], n: int, runs: int) -> None:
    """Records/s of this tree and of `others` (each, say, `git archive OLD tools config services | tar -x -C DIR`),

    in alternating fresh processes, each running this file's `throughput` on its tree's code and config; medians.
    """
    here = Path(__file__).resolve().parent.parent
    trees = {"this tree": here, **{str(t): t.resolve() for t in others}}
    got: dict[str, list[Throughput]] = {name: [] for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            out = subprocess.run(
                [sys.executable, __file__, "--one-run", str(n)],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                capture_output=True,
                text=True,
                check=True,
            )
            got[name].append(Throughput(*map(float, out.stdout.split())))
    print(f"records/s over {n:,} records, {runs} alternating runs each, load {os.getloadavg()[0]:.2f} at the end")
    half = f"{'min':>9}{'max':>9}{'ratio':>7}"
    print(f"{'tree':<28}{'wall median':>12}{half}{'CPU median':>12}{half}")
    for name, rows in got.items():
        wall, cpu = [r.rate for r in rows], [r.cpu_rate for r in rows]
        print(
            f"{name:<28}{statistics.median(wall):>12,.0f}{min(wall):>9,.0f}{max(wall):>9,.0f}"
            f"{statistics.median(r.rate / r.anchor for r in rows):>7.2f}"
            f"{statistics.median(cpu):>12,.0f}{min(cpu):>9,.0f}{max(cpu):>9,.0f}"
            f"{statistics.median(r.cpu_rate / r.cpu_anchor for r in rows):>7.2f}"
        )
    print("ratio: to the anchor (a bare orjson loop) of the same run")


def run_soak(total: int, per_step: int = 1_000) -> None:
    """Print a checkpoint row every tenth (at most every 100,000), then the verdict."""
    from crypto_observability.log_monitor.engine import MAX_CLOSED

    every = min(100_000, max(per_step, total // 10 // per_step * per_step))
    print(f"\nsoak: {total:,} distinct error fingerprints, {per_step:,} a second", end=" ")
    print(f"(hold {SOAK_HOLD_S} s, resolved_retention {SOAK_RETENTION_S} s)")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = ("fingerprints", "step ms", "step CPU ms", "RSS MiB", "alerts held", "alert rows", "load 1m")
    print("".join(f"{h:>14}" for h in header), flush=True)
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for row in soak(total, per_step, Path(tmp), every):
            rows.append(row)
            print(
                f"{row.fingerprints:>14,}{row.step_ms:>14.1f}{row.step_cpu_ms:>14.1f}{row.rss_mib:>14.1f}"
                f"{row.alerts_held:>14,}{row.alert_rows:>14,}{os.getloadavg()[0]:>14.2f}",
                flush=True,
            )
    took = time.perf_counter() - started
    print(f"took {took:,.0f} s; a step = rule + engine + one SQLite commit; medians over the steps of each checkpoint")
    print(soak_verdict(rows, MAX_CLOSED + per_step * (SOAK_HOLD_S + 1)))


if __name__ == "__main__":
    main()
