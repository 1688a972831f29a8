"""`make demo`: simulators, market-data, telegram-bot and log-monitor for a minute, then the report.

Starts every piece as a real process on 127.0.0.1, drives simulated Telegram users, injects an
incident on the exchanges, stops everything cleanly, and prints what happened: a summary read
from the logs, the alerts the monitor fired and resolved, and log-analyzer's report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from crypto_observability.log_monitor.testing import WebhookReceiver

from . import scenario
from .alerts import open_alerts
from .processes import ProcessGroup, StartupError
from .report import print_alerts, print_summary
from .stack import DEMO_TOKEN, MEMBERS, STRANGERS, start_stack
from .summary import summarise

ANALYZER = (sys.executable, "-m", "crypto_observability.log_analyzer")  # the log-analyzer command

DEMO_LOG_DIR = Path("var/demo")  # outside the default LOG_DIR (logs/), which the analyzer searches recursively
SETTLE_S = 25.0  # after the traffic, how long the monitor may take to resolve what it fired


def run_demo(log_dir: Path, duration_s: float, console: Console) -> int:
    """The whole demo; returns the exit code."""
    shutil.rmtree(log_dir, ignore_errors=True)
    (log_dir / "processes").mkdir(mode=0o750, parents=True)
    log_dir.chmod(0o750)
    salt = os.environ.get("LOG_USER_SALT") or "demo-salt-" + os.urandom(8).hex()
    env = {**os.environ, "LOG_DIR": str(log_dir), "LOG_CONSOLE": "false", "LOG_USER_SALT": salt,
           "ENVIRONMENT": "demo", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", "PTB_TIMEDELTA": "1"}
    receiver = WebhookReceiver("/alerts")
    started = time.monotonic()
    with ProcessGroup(log_dir / "processes", env) as group:
        console.print("[bold]Starting[/] the two simulators, market-data, telegram-bot and log-monitor")
        stack = start_stack(group, monitor_config=Path("config/monitor.demo.yml"), monitor_env={
            "MONITOR_STATE_DB": str(log_dir / "processes" / "monitor.db"), "DEMO_WEBHOOK_URL": receiver.url})
        telegram_url, exchange_url = stack.telegram_url, stack.exchange_url
        console.print(f"  all up in {time.monotonic() - started:.1f} s; logs in [bold]{log_dir}[/]")

        def dead() -> str | None:
            return next((c.name for c in group.children if c.process.poll() is not None), None)

        with Progress(TextColumn("{task.description:<42}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            traffic = scenario.run(duration_s, telegram_url, exchange_url, progress, dead)
            settle = progress.add_task("waiting for the monitor to resolve alerts", total=SETTLE_S)
            waited = 0.0
            while open_alerts(receiver.payloads()) and waited < SETTLE_S:
                time.sleep(0.5)
                waited += 0.5
                progress.update(settle, completed=waited)
            progress.update(settle, completed=SETTLE_S)
        for name in ("telegram-bot", "market-data"):  # the services first, so their last lines reach the monitor
            group.stop(stack.children[name])
        time.sleep(2.0)
        group.stop(stack.children["log-monitor"])
    receiver.close()
    summary = summarise(log_dir, [DEMO_TOKEN, DEMO_TOKEN.split(":")[1], salt], MEMBERS + STRANGERS)
    print_summary(console, summary, traffic, log_dir)
    print_alerts(console, receiver.payloads())
    code = _analyzer_report(log_dir, console)
    console.rule("[bold]the slowest journey, step by step (log-analyzer trace --slowest)")
    subprocess.run([*ANALYZER, "trace", "--slowest", str(log_dir)], check=False)
    console.print(f"\nDemo finished in {time.monotonic() - started:.0f} s. Logs: [bold]{log_dir}[/]; "
                  f"HTML report: [bold]{log_dir / 'report.html'}[/]")
    return 1 if summary.leaks or code else 0


def _analyzer_report(log_dir: Path, console: Console) -> int:
    """Run log-analyzer's report over the demo's logs, terminal summary plus the HTML file."""
    console.rule("[bold]log-analyzer report")
    done = subprocess.run([*ANALYZER, "health", str(log_dir)], check=False)
    subprocess.run([*ANALYZER, "exchanges", str(log_dir)], check=False)
    html = subprocess.run([*ANALYZER, "report", str(log_dir), "--no-cache",
                           "--html", str(log_dir / "report.html"), "--format", "json"],
                          capture_output=True, text=True, check=False)
    if html.returncode:
        console.print(f"[red]log-analyzer report failed:[/] {html.stderr.strip()[-400:]}")
    return done.returncode or html.returncode


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m services.demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of user traffic (default 60)")
    parser.add_argument("--log-dir", type=Path, default=DEMO_LOG_DIR,
                        help=f"where the logs go (default {DEMO_LOG_DIR}: outside logs/, out of real reports)")
    args = parser.parse_args(argv)
    if args.duration < 8:
        parser.error(f"--duration {args.duration}: needs at least 8 seconds for the incident to play")
    console = Console()
    try:
        return run_demo(args.log_dir, args.duration, console)
    except StartupError as exc:
        console.print(f"[red]demo could not start:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
