"""Cost of the ExchangeLogger wrapper: the same ccxt calls against the simulator, wrapped and not, in one run.

Both clients are real ccxt.async_support exchanges pointed at one in-process exchange simulator
on 127.0.0.1; rounds alternate wrapped and unwrapped batches so drift hits both alike. The
wrapped client logs exchange_api_call, updates the rolling metrics and checks each ticker, with
the pipeline writing JSON lines to a file as in production. Goal: wrapped/unwrapped <= 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._timing import table

SYMBOL = "BTC/USDT:USDT"


async def _batch(call: Any, n: int) -> tuple[float, float]:
    """Median wall ms per call and mean process CPU µs per call over n sequential calls."""
    walls = []
    cpu0 = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        await call(SYMBOL)
        walls.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(walls), (time.process_time() - cpu0) / n * 1e6


async def run(exchange_id: str, rounds: int, per_round: int, log_dir: Path) -> dict[str, list[float]]:
    """Alternate unwrapped and wrapped batches of fetch_ticker; return per-round medians and CPU."""
    from crypto_observability.shared.exchange_logger import ExchangeLogger
    from crypto_observability.shared.logging_config import ensure_pipeline, shutdown_logging
    from crypto_observability.shared.settings import LogSettings
    from crypto_observability.shared.structured_logger import create_structured_logger
    from services.exchange_simulator import SimulatorServer
    from services.exchange_simulator.client import make_exchange

    settings = LogSettings(log_dir=log_dir, console=False, file=True, monitoring=True, environment="production",
                           git_commit="bench000", max_bytes=1 << 40, user_salt="bench")
    pipeline = ensure_pipeline(settings)
    results: dict[str, list[float]] = {f"{side}_{unit}": [] for side in ("raw", "control", "wrapped")
                                       for unit in ("ms", "cpu")}
    async with SimulatorServer() as sim:
        raw = make_exchange(exchange_id, sim.base_url, enableRateLimit=False)
        control = make_exchange(exchange_id, sim.base_url, enableRateLimit=False)  # A/A: the noise floor
        plain = make_exchange(exchange_id, sim.base_url, enableRateLimit=False)
        wrapped = ExchangeLogger(create_structured_logger("market-data", "exchange")).wrap(plain)
        sides = [("raw", raw.fetch_ticker), ("control", control.fetch_ticker), ("wrapped", wrapped.fetch_ticker)]
        try:
            for client in (raw, control, wrapped):
                await client.load_markets()
                await _batch(client.fetch_ticker, 20)  # warm the connection pool
            for i in range(rounds):
                order = sides[i % 3:] + sides[: i % 3]  # rotate who goes first
                for name, call in order:
                    wall, cpu = await _batch(call, per_round)
                    results[f"{name}_ms"].append(wall)
                    results[f"{name}_cpu"].append(cpu)
        finally:
            for client in (raw, control, plain):
                await client.close()
    pipeline.flush()
    shutdown_logging()
    return results


def main(argv: list[str] | None = None) -> int:
    """Run both sides in one process and print medians and the wrapped/unwrapped ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 10 s)")
    parser.add_argument("--exchange", default="okx", choices=("binanceusdm", "bybit", "okx"))
    args = parser.parse_args(argv)
    rounds, per_round = (10, 100) if args.quick else (30, 200)
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(args.exchange, rounds, per_round, Path(tmp)))
        log = Path(tmp) / "market-data.log"
        lines = sum(1 for _ in log.open("rb")) if log.exists() else 0
    raw_ms, wrapped_ms = statistics.median(r["raw_ms"]), statistics.median(r["wrapped_ms"])
    raw_cpu, wrapped_cpu = statistics.median(r["raw_cpu"]), statistics.median(r["wrapped_cpu"])
    control_ms, control_cpu = statistics.median(r["control_ms"]), statistics.median(r["control_cpu"])
    rows = [
        ("unwrapped ccxt fetch_ticker", f"{raw_ms:.3f}", f"{raw_cpu:.0f}", ""),
        ("unwrapped, second client (A/A control)", f"{control_ms:.3f}", f"{control_cpu:.0f}", ""),
        ("  ratio control/unwrapped (noise floor)", f"{control_ms / raw_ms:.3f}", f"{control_cpu / raw_cpu:.3f}", ""),
        ("wrapped by ExchangeLogger", f"{wrapped_ms:.3f}", f"{wrapped_cpu:.0f}", ""),
        ("  ratio wrapped/unwrapped", f"{wrapped_ms / raw_ms:.3f}", f"{wrapped_cpu / raw_cpu:.3f}", "goal <= 1.05"),
        ("  wrapper cost per call", f"{wrapped_ms - raw_ms:+.3f}", f"{wrapped_cpu - raw_cpu:+.0f}", ""),
    ]
    print(f"{args.exchange} fetch_ticker against the simulator on 127.0.0.1 (client and server in one process), "
          f"median of {rounds} rounds x {per_round} calls each side, {lines} log lines written (pid {os.getpid()})")
    print(table(rows, ("side", "wall ms/call", "process CPU µs/call", "goal")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
