"""`python -m services.exchange_simulator --port N`: serve the simulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from .faults import FaultError
from .server import SimulatorServer

log = logging.getLogger("services.exchange_simulator")


def parse_fault_option(text: str) -> dict[str, Any]:
    """Parse --fault EXCHANGE:KIND[:name=value,...] into inject() arguments."""
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise argparse.ArgumentTypeError(f"--fault {text!r}: expected EXCHANGE:KIND[:name=value,...]")
    params: dict[str, Any] = {}
    for item in filter(None, (parts[2] if len(parts) == 3 else "").split(",")):
        name, _, value = item.partition("=")
        try:
            params[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--fault {text!r}: {name}={value!r} is not a number") from None
    return {"exchange": parts[0], "kind": parts[1], **params}


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(prog="python -m services.exchange_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8089, help="port to bind; 0 picks a free one (default 8089)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the price walk (default 7)")
    parser.add_argument("--ws-interval", type=float, default=1.0, help="seconds between WebSocket pushes")
    parser.add_argument(
        "--fault",
        action="append",
        type=parse_fault_option,
        default=[],
        help="fault in force from the start, e.g. okx:latency:ms=300 (repeatable)",
    )
    parser.add_argument("--log-level", default="INFO", help="stdlib logging level (default INFO)")
    return parser


async def serve(args: argparse.Namespace) -> None:
    """Start the server, install start-up faults, wait for a stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with SimulatorServer(args.host, args.port, seed=args.seed, ws_interval=args.ws_interval) as sim:
        for fault in args.fault:
            sim.inject(**fault)
        log.info("exchange simulator listening on %s", sim.base_url)
        print(f"exchange simulator listening on {sim.base_url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args))
    except FaultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
