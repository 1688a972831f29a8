"""Print the demo's summary and the monitor's alerts as tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .summary import Summary


def _counts(counts: dict[Any, int]) -> str:
    """Render counts as words an operator reads ("unauthorized_command 27, suspicious_rate 4"), not a dict."""
    return ", ".join(f"{key} {n}" for key, n in sorted(counts.items(), key=lambda kv: str(kv[0]))) or "none"


def print_summary(console: Console, s: Summary, traffic: dict[str, Any], log_dir: Path) -> None:
    """What the logs say happened."""
    console.rule("[bold]What happened (read back from the logs)")
    table = Table("service", "lines", "INFO", "WARNING", "ERROR")
    for service in sorted(s.lines):
        table.add_row(service, str(s.lines[service]), *(str(s.levels[(service, lvl)]) for lvl in
                                                          ("INFO", "WARNING", "ERROR")))
    console.print(table)
    sent = traffic.get("sent", "?")
    console.print(f"Users sent {sent} messages; the bot answered {s.commands[True]} commands and "
                  f"{s.commands[False]} failed; refused: {_counts(s.security)}.")
    console.print(f"market-data served {sum(s.http_status.values())} requests (by status: {_counts(s.http_status)}); "
                  f"{s.partial_answers} open-interest answers were partial.")
    exchanges = Table("exchange", "calls", "failures", "rate limited", "slower than 1 s")
    for exchange in sorted(s.exchange_calls):
        fails = {t: n for (e, t), n in s.exchange_failures.items() if e == exchange}
        exchanges.add_row(exchange, str(s.exchange_calls[exchange]), _counts(fails) if fails else "-",
                          str(s.rate_limits.get(exchange, 0)), str(s.slow_calls.get(exchange, 0)))
    console.print(exchanges)
    console.print(f"{s.cross_service_journeys} request ids tie telegram-bot lines to market-data lines.")
    if s.leaks:
        console.print(f"[red bold]LEAK:[/] found in {log_dir}: {', '.join(s.leaks)}")
    else:
        console.print("[green]No bot token, salt or raw user id appears in any log line.[/]")


def print_alerts(console: Console, notifications: list[dict[str, Any]]) -> None:
    """The monitor's notifications, in the order they arrived."""
    console.rule("[bold]log-monitor alerts")
    if not notifications:
        console.print("The monitor sent no notification.")
        return
    table = Table("#", "status", "alert", "labels", "reason")
    for i, note in enumerate(notifications, 1):
        for alert in note.get("alerts", []):
            labels = alert.get("labels", {})
            where = ", ".join(f"{k}={v}" for k, v in labels.items() if k not in ("alertname", "rule_type", "severity"))
            style = "red" if alert.get("status") == "firing" else "green"
            table.add_row(str(i), f"[{style}]{alert.get('status')}[/]", str(labels.get("alertname")), where,
                          str(note.get("notification_reason")))
    console.print(table)
