"""`log-monitor`: a thin click layer over tools.log_monitor.commands and Monitor."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from tools.log_monitor import commands
from tools.log_monitor.config import load_config
from tools.log_monitor.errors import MonitorError
from tools.log_monitor.store import Store

_CONFIG = click.option(
    "--config", "config_path", default="config/monitor.yml", show_default=True, help="monitor config file"
)
_DB = click.option("--db", default=None, help="state database (default: the config's state_db)")


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _store(config_path: str, db: str | None) -> Store:
    return Store(db or load_config(config_path).state_db)


@click.group()
def cli() -> None:
    """Follow the service logs, evaluate rules, and alert without spam."""


@cli.command()
@_CONFIG
@click.option("--once", is_flag=True, help="one pass over what is there, deliver, exit")
@click.option("--duration", type=float, default=None, help="stop after this many seconds")
def run(config_path: str, once: bool, duration: float | None) -> None:
    """Run the monitor; SIGINT or SIGTERM stops it after the current batch is committed."""
    from tools.log_monitor.monitor import Monitor

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def nap(seconds: float) -> None:
        stop.wait(seconds)

    try:
        monitor = Monitor(load_config(config_path))
        try:
            summary = monitor.run(once=once, duration=duration, stop=stop, sleep=nap)
        finally:
            monitor.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"{summary.lines} lines in {summary.steps} steps, {summary.delivered} notifications delivered")


@cli.command()
@_CONFIG
@_DB
def status(config_path: str, db: str | None) -> None:
    """Show lag, parse errors, heartbeat, open alerts and rule notes."""
    st = commands.status(_store(config_path, db))
    con = Console()
    hb, lag = st["heartbeat_age_s"], st["lag_s"]
    con.print(
        f"heartbeat: {'never' if hb is None else f'{hb:.1f}s ago'}   lag: "
        f"{'-' if lag is None else f'{lag:.1f}s'}   lines: {st['lines']}   parse errors: {st['parse_errors']}"
        f"   files: {st['files']}   follower: {st['follower']}   outbox: {st['outbox']}",
        markup=False,
    )
    table = Table("id", "state", "alert", "labels", "since", "note")
    for a in st["alerts"]:
        note = "flapping " if a["flapping"] else ""
        note += f"acked by {a['acked']['by']} " if a.get("acked") else ""
        note += a.get("suppressed") or ""
        labels = ", ".join(f"{k}={v}" for k, v in a["labels"].items() if k not in ("alertname", "rule_type"))
        table.add_row(
            str(a["id"]), a["state"], a["rule"], labels, _when(a["started_at"] or a["active_since"]), note.strip()
        )
    con.print(table)
    for name, note in st["rules"].items():
        con.print(f"{name}: {note}", markup=False)


@cli.command()
@_CONFIG
@_DB
@click.option("--limit", default=50, show_default=True)
@click.option("--alert", "alert_id", type=int, default=None)
def alerts(config_path: str, db: str | None, limit: int, alert_id: int | None) -> None:
    """Show the history of transitions, notifications and deliveries."""
    table = Table("time", "alert", "kind", "detail")
    for h in commands.history(_store(config_path, db), limit, alert_id):
        detail = ", ".join(f"{k}={v}" for k, v in h["detail"].items() if v not in (None, ""))
        table.add_row(_when(h["ts"]), str(h["alert_id"] or ""), h["kind"], detail)
    Console().print(table)


@cli.command()
@_CONFIG
@_DB
@click.argument("alert_id", type=int)
@click.option("--comment", required=True)
@click.option("--by", default=None, help="who acknowledges (default: current user)")
def ack(config_path: str, db: str | None, alert_id: int, comment: str, by: str | None) -> None:
    """Acknowledge an alert: no repeats until its state changes."""
    commands.ack(_store(config_path, db), alert_id, by=by or getpass.getuser(), comment=comment)
    click.echo(f"alert {alert_id} acknowledged")


@cli.command("silence")
@_CONFIG
@_DB
@click.argument("matchers")
@click.option("--for", "duration", required=True, help="e.g. 30m, 2h")
@click.option("--comment", default="")
@click.option("--by", default=None)
def silence_cmd(config_path: str, db: str | None, matchers: str, duration: str, comment: str, by: str | None) -> None:
    """Silence alerts matching MATCHERS (label=value,label=~regex) for a while."""
    s = commands.silence(_store(config_path, db), matchers, duration, by=by or getpass.getuser(), comment=comment)
    click.echo(f"silence #{s['id']} until {_when(s['ends_at'])} UTC")


@cli.command("test-notify")
@_CONFIG
@click.argument("channel")
def test_notify(config_path: str, channel: str) -> None:
    """Send a test notification through CHANNEL."""
    result = commands.test_notify(load_config(config_path), channel)
    click.echo(f"{channel}: {'delivered' if result.ok else 'FAILED'} {result.detail}".rstrip())
    if not result.ok:
        sys.exit(1)


@cli.command("check-config")
@_CONFIG
def check_config(config_path: str) -> None:
    """Validate the config file and list its rules and channels."""
    cfg = commands.check_config(config_path)
    click.echo(f"{config_path}: OK, {len(cfg.rules)} rules, channels: {', '.join(sorted(cfg.channels))}")


def main(argv: list[str] | None = None) -> Any:
    """Entry point; MonitorError becomes a message and its exit code."""
    try:
        return cli.main(args=argv, prog_name="log-monitor", standalone_mode=False)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
