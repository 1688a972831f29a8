"""Rich tables for the terminal: one renderer per subcommand, all over plain result data."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None, limit: int = 25) -> Table:
    """Build a rich Table of ``rows`` (the given columns, or all keys of the first row)."""
    columns = columns or (list(rows[0]) if rows else ["(none)"])
    out = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows[:limit]:
        out.add_row(*(_text(row.get(c)) for c in columns))
    return out


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def render_errors(console: Console, result: dict[str, Any]) -> None:
    console.print(table("Error patterns (WARNING+)", result["patterns"],
                        ["count", "template", "trend", "spike", "services", "modules", "last_seen", "example"]))
    if result["spikes"]:
        console.print(table("Spikes in the last window", result["spikes"]))


def render_performance(console: Console, result: dict[str, Any]) -> None:
    for key, rows in result.items():
        if isinstance(rows, list) and key != "resources":
            console.print(table(key.replace("_", " ").capitalize(), rows))
    console.print(f"Critical records: {result['critical']['count']} ({result['critical']['per_hour']}/h)")


def render_journeys(console: Console, result: dict[str, Any]) -> None:
    console.print(f"Journeys: {result['total']}, failed {result['failed']}, slow {result['slow']} "
                  f"(> {result['slow_threshold_ms']} ms), across services {result['cross_service']}")
    columns = ["request_id", "user", "command", "services", "duration_ms", "failed", "slowest_step"]
    console.print(table("Slowest journeys", result["slowest"], columns))
    console.print(table("Latest failed journeys", result["failures"], columns))


def render_health(console: Console, result: dict[str, Any]) -> None:
    console.print(f"Overall health: [bold]{result['score']}[/bold] ({result['grade']})")
    rows = [{"service": s["service"], "score": s["score"], "grade": s["grade"], **s["components"]}
            for s in result["services"]]
    console.print(table("Health by service (components 0-100)", rows))


def render_exchanges(console: Console, result: dict[str, Any]) -> None:
    console.print(table("Exchanges, ranked", result["exchanges"],
                        ["rank", "exchange", "calls", "success_rate", "p50_ms", "p95_ms", "rate_limit_hits",
                         "errors_by_type", "data_quality_flags"]))


def render_report(console: Console, doc: dict[str, Any]) -> None:
    inp = doc["input"]
    console.print(f"{inp['records']:,} records, {inp['start']} .. {inp['end']}, {len(inp['files'])} files")
    render_health(console, doc["health"])
    console.print(table("Top error patterns", doc["errors"]["patterns"], ["count", "template", "trend", "spike"],
                        limit=10))
    render_exchanges(console, doc["exchanges"])
    console.print(table("Incidents", doc["performance"]["incidents"],
                        ["start", "recovered_at", "recovery_seconds", "failures", "top_causes"]))
    render_journeys(console, doc["journeys"])


def render_malformed(console: Console, count: int, lines: list[dict[str, Any]]) -> None:
    """Summarise rejected lines (on stderr in the CLI) so bad input is visible but not fatal."""
    if count:
        console.print(f"[yellow]{count} malformed line(s) skipped[/yellow]")
        console.print(table("Malformed lines (first)", lines, ["file", "line", "reason", "excerpt"], limit=10))
