"""log-monitor benchmark: records/s with the default rules vs a bare orjson loop; ERROR-to-webhook latency;
a soak of distinct error fingerprints (new_fingerprint) showing flat memory and step time."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import yaml

from tools.log_monitor import config as c
from tools.log_monitor.config import load_config, parse_config
from tools.log_monitor.monitor import Monitor


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


def throughput(n: int, root: Path) -> tuple[float, float]:
    """Return (monitor records/s, anchor records/s) over the same file."""
    log = root / "market-data.log"
    log.write_bytes(_records(n, time.time()))
    t = time.perf_counter()
    with open(log, "rb") as f:
        for line in f:
            orjson.loads(line)
    anchor = n / (time.perf_counter() - t)
    base = load_config("config/monitor.yml", {"LOG_DIR": str(root), "MONITOR_STATE_DB": str(root / "t.db")})
    cfg = base.model_copy(update={"start_at": "beginning", "batch_lines": 50_000})
    m = Monitor(cfg, notifiers={"console": _Null()})
    t = time.perf_counter()
    done = 0
    while done < n:
        done += m.step()
    rate = n / (time.perf_counter() - t)
    m.close()
    return rate, anchor


class _Null:
    def send(self, notification: dict[str, Any]) -> Any:
        from tools.log_monitor.notifiers import DeliveryResult

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


def soak(fingerprints: int, per_step: int, root: Path) -> list[tuple[int, float, float, int]]:
    """Feed `fingerprints` distinct error fingerprints, `per_step` a second, through the rule, engine and store.

    Returns one row per tenth: (fingerprints so far, median step ms in that tenth, RSS MiB, alerts held).
    """
    import psutil

    from tools.log_monitor.engine import Engine
    from tools.log_monitor.records import TS_KEY, Batch
    from tools.log_monitor.rules_logs import NewFingerprintRule
    from tools.log_monitor.store import Store

    rules = [{"name": "new", "type": "new_fingerprint", "hold": "2s"}]
    cfg = parse_config({"sources": ["x"], "rules": rules, "resolved_retention": 60})
    rc = cfg.rules[0]
    assert isinstance(rc, c.NewFingerprintRule)
    rule, engine, store = NewFingerprintRule(rc), Engine(cfg, []), Store(root / "soak.db")
    state: dict[str, Any] = {}
    now, fed, times, rows = 1_767_225_600.0, 0, [], []
    proc = psutil.Process()
    tenth = fingerprints // 10
    while fed < fingerprints:
        batch = Batch(
            {"service": "s", "level": "ERROR", "error": {"fingerprint": f"fp{fed + i}", "type": "E"}, TS_KEY: now}
            for i in range(per_step)
        )
        t = time.perf_counter()
        engine.observe({"new": rule.evaluate(batch, now, state)}, now)
        engine.notify(now, [])
        alerts, history, outbox, evicted = engine.drain()
        store.commit({"rule:new": state}, alerts, history, outbox, evicted)
        times.append(time.perf_counter() - t)
        fed, now = fed + per_step, now + 1.0
        if fed % tenth < per_step:
            rows.append((fed, statistics.median(times) * 1000, proc.memory_info().rss / 2**20, len(engine.alerts)))
            times = []
    store.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print a table."""
    ap = argparse.ArgumentParser(prog="bench_monitor")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--soak", type=int, default=None, help="distinct fingerprints for the soak (default 1,000,000)")
    args = ap.parse_args(argv)
    n, runs, samples = (100_000, 3, 30) if args.quick else (400_000, 5, 100)
    rates, anchors = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            r, a = throughput(n, Path(tmp))
            rates.append(r)
            anchors.append(a)
    with tempfile.TemporaryDirectory() as tmp:
        lat = sorted(latency(samples, Path(tmp)))
    mr, ma = statistics.median(rates), statistics.median(anchors)
    print(f"{'measure':<44}{'log-monitor':>14}{'anchor':>14}{'ratio':>8}")
    print(f"{f'records/s, default rules (median of {runs})':<44}{mr:>14,.0f}{ma:>14,.0f}{mr / ma:>8.2f}")
    if lat:
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print(
            f"{'ERROR line -> webhook p50 / p99 (s)':<44}{statistics.median(lat):>14.3f}{p99:>14.3f}"
            f"{'':>8}  ({len(lat)}/{samples} arrived)"
        )
    print("goals: >= 50,000 records/s; p99 <= 1 s")
    total = args.soak or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        rows = soak(total, 1_000, Path(tmp))
    print(f"\nsoak: {total:,} distinct error fingerprints, 1,000 a second (hold 2 s, resolved_retention 60 s)")
    print(f"{'fingerprints':>14}{'step ms (median)':>18}{'RSS MiB':>10}{'alerts held':>13}")
    for fed, ms, rss, held in rows:
        print(f"{fed:>14,}{ms:>18.1f}{rss:>10.0f}{held:>13,}")
    print("goal: step time and RSS flat from the second tenth on")


if __name__ == "__main__":
    main()
