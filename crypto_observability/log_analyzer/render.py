"""Rich tables for the terminal: one renderer per subcommand, all over plain result data.

Log text is data: every cell and line goes out as a ``rich.text.Text`` (never parsed as markup) with
control characters replaced, so ``[/]``, ``[link=...]`` or an escape sequence in a message is shown,
not obeyed.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crypto_observability.log_analyzer._plain import safe
from crypto_observability.log_analyzer.vocabulary import LABELS


def line(*parts: Any, style: str | None = None) -> Text:
    """Return plain text (no markup) made of ``parts``."""
    return Text("".join(safe(p) for p in parts), style=style or "")


def table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None, limit: int = 25) -> Table | Text:
    """Build a rich Table of ``rows`` (the given columns, or all keys of the first row); say so when empty."""
    if not rows:
        return line(f"{title}: none in the input", style="dim")
    columns = columns or list(rows[0])
    out = Table(title=Text(title), title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(Text(column), overflow="fold")
    for row in rows[:limit]:
        out.add_row(*(Text(_text(row.get(c))) for c in columns))
    return out


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return safe(", ".join(f"{k}={v}" for k, v in value.items()) or "-")
    if isinstance(value, list):
        return safe(", ".join(_text(v) if isinstance(v, dict) else str(v) for v in value))
    return safe(value)


def render_errors(console: Console, result: dict[str, Any]) -> None:
    console.print(line(f"{result['total']} {result['counts']}, {len(result['patterns'])} patterns listed"))
    console.print(table(f"Patterns of {result['counts']}", result["patterns"],
                        ["count", "template", "trend", "spike", "users", "services", "first_seen", "last_seen",
                         "example"]))
    if result["spikes"]:
        console.print(table("Spikes in the last window", result["spikes"]))
    if result.get("see_examples"):
        console.print(line("Example lines of the top pattern: ", result["see_examples"], style="dim"))


_SKIPPED = ("resources", "failure_types", "error_rates")


def render_performance(console: Console, result: dict[str, Any]) -> None:
    for key, rows in result.items():
        if isinstance(rows, list) and key not in _SKIPPED and key != "incidents":
            console.print(table(key.replace("_", " ").capitalize(), rows))
    console.print(table("Records, problems, errors and failures by service and module (see docs: vocabulary)",
                        result["error_rates"], ["service", "module", "records", "problems", "errors", "outcomes",
                                                "failures", "user_mistakes", "error_rate", "failure_rate"]))
    console.print(table(f"Failure types ({LABELS['failures']})", result["failure_types"]))
    console.print(table("Memory and CPU by service", result["resources_by_service"]))
    console.print(_incidents(result["incidents"]))
    critical = result["critical"]
    rate = f", {critical['per_hour']}/h" if critical["per_hour"] is not None else ""
    console.print(line(f"CRITICAL records: {critical['count']} over {critical['span_hours']} h{rate}"))


def _incidents(incidents: list[dict[str, Any]]) -> Table | Text:
    rows = [{**i, "top_causes": "; ".join(c["cause"] for c in i["top_causes"])} for i in incidents]
    return table("Incidents (first to last failure, 10 s resolution)", rows,
                 ["start", "end", "recovery_seconds", "failures", "failure_share", "ongoing", "top_causes"])


def render_journeys(console: Console, result: dict[str, Any]) -> None:
    console.print(line(f"Journeys: {result['total']}, failed {result['failed']}, slow {result['slow']} "
                       f"(> {result['slow_threshold_ms']} ms), across services {result['cross_service']}"))
    columns = ["request_id", "user", "command", "services", "duration_ms", "failed", "slowest_step"]
    console.print(table("Slowest journeys", result["slowest"], columns))
    console.print(table("Latest failed journeys", result["failures"],
                        ["request_id", "user", "command", "services", "start", "why"]))
    console.print(table("Users most affected by failures (hashed)", result["users"]))


def render_health(console: Console, result: dict[str, Any]) -> None:
    console.print(line("Overall health: ", result["score"], f" ({result['grade']})", style="bold"))
    rows = [{"service": s["service"], "score": s["score"], "grade": s["grade"], **s["components"]}
            for s in result["services"]]
    console.print(table("Health by service (components 0-100)", rows))
    if result.get("freshness_note"):
        console.print(line(result["freshness_note"], style="dim"))


def render_exchanges(console: Console, result: dict[str, Any]) -> None:
    console.print(table("Exchanges, ranked (calls; failures and rate-limit hits are failed calls)",
                        result["exchanges"],
                        ["rank", "exchange", "calls", "failures", "success_rate", "p50_ms", "p95_ms",
                         "rate_limit_hits", "errors_by_type", "data_quality_flags"]))


def render_changes(console: Console, changes: list[dict[str, Any]]) -> None:
    """Deploys, restarts and configuration changes, in time order."""
    console.print(table("What changed (deploys, restarts, configuration)", changes,
                        ["time", "service", "kind", "detail"]))


def render_report(console: Console, doc: dict[str, Any]) -> None:
    inp = doc["input"]
    read = f"the store {inp['source']}" if inp.get("source") else f"{len(inp['files'])} files"
    console.print(line(f"{inp['records']:,} records, {inp['start']} .. {inp['end']}, {read}"))
    render_health(console, doc["health"])
    console.print(table(f"Top patterns of {doc['errors']['counts']}", doc["errors"]["patterns"],
                        ["count", "template", "trend", "spike", "users", "first_seen", "last_seen"], limit=10))
    render_exchanges(console, doc["exchanges"])
    console.print(_incidents(doc["performance"]["incidents"]))
    console.print(table("Memory and CPU by service", doc["performance"]["resources_by_service"]))
    render_changes(console, doc["changes"])
    render_journeys(console, doc["journeys"])


def render_notes(console: Console, notes: list[str]) -> None:
    """Say which files were skipped and why (vanished, duplicates), on stderr in the CLI."""
    for note in notes:
        console.print(line(note, style="yellow"))


def render_malformed(console: Console, count: int, lines: list[dict[str, Any]]) -> None:
    """Summarise rejected lines (on stderr in the CLI) so bad input is visible but not fatal."""
    if count:
        console.print(line(f"{count} malformed line(s) skipped", style="yellow"))
        console.print(table("Malformed lines (first)", lines, ["file", "line", "reason", "excerpt"], limit=10))
