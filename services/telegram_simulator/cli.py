"""Command line: `python -m services.telegram_simulator --port N [--token T] [--traffic 60s --rate 2]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Any, TextIO

from crypto_observability.shared.durations import parse_positive_duration

from .simulator import DEFAULT_TOKEN, TelegramSimulator
from .traffic import TrafficReport, make_users


def positive_duration(text: str) -> float:
    """An option's duration in the project's one grammar (shared.durations: 500ms, 60s, 1h30m), above 0."""
    try:
        return parse_positive_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """Describe the command's options."""
    p = argparse.ArgumentParser(prog="python -m services.telegram_simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    p.add_argument("--token", default=DEFAULT_TOKEN, help="the one bot token accepted")
    p.add_argument("--traffic", type=positive_duration, default=None, metavar="DURATION",
                   help="drive simulated user traffic for this long (e.g. 60s, 1m30s)")
    p.add_argument("--traffic-delay", type=positive_duration, default=None, metavar="DURATION",
                   help="wait this long before the traffic starts (e.g. 5s)")
    p.add_argument("--rate", type=float, default=2.0, help="traffic events per second (default 2)")
    p.add_argument("--users", type=int, default=12, help="simulated users (default 12, ~1 in 6 strangers)")
    p.add_argument("--seed", type=int, default=1, help="traffic random seed (default 1)")
    p.add_argument("--exit-after-traffic", action="store_true", help="stop once the traffic is played")
    p.add_argument("--log-level", default="INFO", help="stdlib log level for stderr (default INFO)")
    return p


def _emit(out: TextIO, event: str, **fields: Any) -> None:
    out.write(json.dumps({"event": event, **fields}) + "\n")
    out.flush()


async def serve(args: argparse.Namespace, out: TextIO = sys.stdout) -> None:
    """Run the simulator until SIGINT/SIGTERM (or the traffic ends with --exit-after-traffic)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    users = make_users(args.users)
    async with TelegramSimulator(args.token, host=args.host, port=args.port) as sim:
        for user in users:
            sim.add_user(user)
        _emit(out, "telegram_simulator_ready", base_url=sim.base_url, server_url=sim.server_url,
              port=sim.port, users=[{**u.user_dict(), "role": u.role} for u in users])
        if args.traffic:

            def done(report: TrafficReport) -> None:
                _emit(out, "traffic_finished", **report.to_dict())
                if args.exit_after_traffic:
                    stop.set()

            sim.start_traffic(users, args.traffic, args.rate, args.seed, args.traffic_delay or 0.0, done)
        await stop.wait()
    _emit(out, "telegram_simulator_stopped")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve; the exit code is 0 on a clean stop, 2 on bad arguments."""
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        build_parser().error(f"--port must be between 0 and 65535, got {args.port}")
    if args.users < 1 or args.rate <= 0:
        build_parser().error("--users must be >= 1 and --rate > 0")
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args))
    except ValueError as exc:
        print(f"telegram simulator: {exc}", file=sys.stderr)
        return 2
    return 0
