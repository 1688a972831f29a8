"""`log-monitor`: a thin click layer over crypto_observability.log_monitor.commands and Monitor."""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crypto_observability.console import console
from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.config import config_hash, load_config
from crypto_observability.log_monitor.errors import ConfigError, MonitorError, StateError
from crypto_observability.log_monitor.store import Store
from crypto_observability.shared.durations import parse_positive_duration

DEFAULT_CONFIG = "config/monitor.yml"


def _config_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """The --config value; when it is the checkout-relative default and absent, say what to pass instead."""
    defaulted = ctx.get_parameter_source("config_path") is click.core.ParameterSource.DEFAULT
    if defaulted and not ctx.params.get("db") and not Path(value).is_file():  # --db alone needs no config
        raise ConfigError(
            f"no config file {value!r} in {Path.cwd()}: that default is the repository's copy, relative to the "
            "current directory; pass --config PATH (e.g. --config /etc/log-monitor/monitor.yml)"
        )
    return value


_CONFIG = click.option(
    "--config", "config_path", default=DEFAULT_CONFIG, show_default=True, callback=_config_path,
    help="monitor config file (the default is relative to the current directory: run from the checkout or pass it)",
)
_DB = click.option("--db", default=None, help="state database (default: the config's state_db)")
_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="output format"
)


def _json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def _console() -> Console:
    """A terminal console; to a pipe or file, rows are never wrapped (grep sees whole rows); NO_COLOR: no codes."""
    return console()


def _pairs(d: dict[str, Any]) -> str:
    """A dict as `k=v, k=v` for a human (never a Python repr)."""
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):  # a row from before durations were bounded (year > 9999)
        return "9999-12-31 23:59:59+" if ts > 0 else "0001-01-01 00:00:00-"


def _store(config_path: str, db: str | None, create: bool = False) -> Store:
    """The state database the command names; one that does not exist is an error (a typo is not an idle monitor),
    unless ``create`` (a silence may be set before the first run)."""
    path = db or load_config(config_path).state_db
    if not create and path != ":memory:" and not Path(path).exists():
        raise StateError(f"no state database at {path!r}: `log-monitor run` creates it; pass --db or --config "
                         "to name the one your monitor uses")
    return Store(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crypto-assistant-observability", prog_name="log-monitor")
def cli() -> None:
    """Follow the service logs, evaluate rules, and alert without spam."""


def _run_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """--duration in the one grammar (shared.durations: 30, 90s, 1h30m), above 0 and at most 100 years."""
    if value is None:
        return None
    try:
        return parse_positive_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@_CONFIG
@click.option("--once", is_flag=True, help="one pass over what is there, deliver, exit")
@click.option("--duration", default=None, callback=_run_duration, metavar="DURATION",
              help="stop after this long: seconds (30) or e.g. 90s, 5m, 1h30m (above 0, at most 100 years)")
def run(config_path: str, once: bool, duration: float | None) -> None:
    """Run the monitor; SIGINT or SIGTERM stops it after the current batch is committed."""
    from crypto_observability.log_monitor.monitor import Monitor

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def nap(seconds: float) -> None:
        stop.wait(seconds)

    from crypto_observability.log_monitor.selflog import announce_config

    try:
        cfg = commands.check_config(config_path)
        monitor = Monitor(cfg)
        try:
            announce_config(cfg)
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
@_FORMAT
def status(config_path: str, db: str | None, fmt: str) -> None:
    """Show lag, parse errors, heartbeat, open alerts, silences and rule notes."""
    st = commands.status(_store(config_path, db))
    if fmt == "json":
        _json(st)
        return
    con = _console()
    hb, lag = st["heartbeat_age_s"], st["lag_s"]
    con.print(
        f"heartbeat: {'never' if hb is None else f'{hb:.1f}s ago'}   lag: "
        f"{'-' if lag is None else f'{lag:.1f}s'}   lines: {st['lines']}   parse errors: {st['parse_errors']}"
        f"   future timestamps: {st['future_ts']}   files: {st['files']}   outbox: {_pairs(st['outbox']) or 'empty'}",
        markup=False,
    )
    con.print(f"follower: {_pairs(st['follower'])}", markup=False)
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
    _print_silences(con, st["silences"])
    for name, note in st["rules"].items():
        con.print(f"{name}: {note}", markup=False)


def _print_silences(con: Console, silences: list[dict[str, Any]]) -> None:
    if not silences:
        con.print("silences: none active")
        return
    table = Table("silence", "matchers", "until", "by", "comment", title="silences")
    for s in silences:
        table.add_row(
            f"#{s['id']}",
            ",".join("".join(m) for m in s["matchers"]),
            _when(s["ends_at"]),
            s["created_by"],
            s["comment"],
        )
    con.print(table)


@cli.command()
@_CONFIG
@_DB
@click.option("--limit", default=50, show_default=True)
@click.option("--alert", "alert_id", type=int, default=None)
@_FORMAT
def alerts(config_path: str, db: str | None, limit: int, alert_id: int | None, fmt: str) -> None:
    """Show the history of transitions, notifications and deliveries, with each alert's rule and labels."""
    rows = commands.history(_store(config_path, db), limit, alert_id)
    if fmt == "json":
        _json(rows)
        return
    table = Table("time", "alert", "rule", "labels", "kind", "detail")
    for h in rows:
        detail = ", ".join(f"{k}={v}" for k, v in h["detail"].items() if v not in (None, "") and k != "summary")
        if h["kind"] != "transition" or h["detail"].get("new") == "firing":
            detail += f" {h['detail']['summary']}" if h["detail"].get("summary") else ""
        labels = _pairs({k: v for k, v in (h.get("labels") or {}).items() if k not in ("alertname", "rule_type")})
        table.add_row(_when(h["ts"]), str(h["alert_id"] or ""), h.get("rule") or "", labels, h["kind"], detail.strip())
    _console().print(table)


@cli.command()
@_CONFIG
@_DB
@click.argument("alert_id", type=int)
@click.option("--comment", default="", help="why (optional)")
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
    s = commands.silence(_store(config_path, db, create=True), matchers, duration, by=by or getpass.getuser(),
                         comment=comment)
    click.echo(f"silence #{s['id']} until {_when(s['ends_at'])} UTC")


@cli.command("silences")
@_CONFIG
@_DB
@_FORMAT
def silences_cmd(config_path: str, db: str | None, fmt: str) -> None:
    """List the silences in force."""
    active = commands.silences(_store(config_path, db))
    if fmt == "json":
        _json(active)
    else:
        _print_silences(_console(), active)


@cli.command("expire")
@_CONFIG
@_DB
@click.argument("silence_id", type=int)
@click.option("--by", default=None)
def expire_cmd(config_path: str, db: str | None, silence_id: int, by: str | None) -> None:
    """End silence SILENCE_ID now."""
    commands.expire(_store(config_path, db), silence_id, by=by or getpass.getuser())
    click.echo(f"silence #{silence_id} expired")


@cli.command("retry")
@_CONFIG
@_DB
@click.argument("outbox_ids", type=int, nargs=-1)
@click.option("--by", default=None)
def retry_cmd(config_path: str, db: str | None, outbox_ids: tuple[int, ...], by: str | None) -> None:
    """Requeue dead notifications (all, or the OUTBOX_IDS given); the running monitor delivers them."""
    done = commands.retry(_store(config_path, db), list(outbox_ids) or None, by=by or getpass.getuser())
    click.echo(f"requeued {len(done)} notification(s){': ' + ', '.join(map(str, done)) if done else ''}")


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
@_FORMAT
def check_config(config_path: str, fmt: str) -> None:
    """Validate the config file (and what `run` needs: variables, secrets, a writable state) and list its rules."""
    cfg = commands.check_config(config_path)
    if fmt == "json":
        _json(
            {
                "config": config_path,
                "ok": True,
                "config_hash": config_hash(cfg),
                "rules": [r.name for r in cfg.rules],
                "channels": sorted(cfg.channels),
            }
        )
        return
    click.echo(f"{config_path}: OK, {len(cfg.rules)} rules, channels: {', '.join(sorted(cfg.channels))}")


def main(argv: list[str] | None = None) -> Any:
    """Entry point; MonitorError becomes a message and its exit code."""
    try:
        return cli.main(args=argv, prog_name="log-monitor", standalone_mode=False)
    except MonitorError as exc:
        click.echo(f"Error: {exc}", err=True)  # the prefix click and log-analyzer use
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
