"""One self-contained HTML file (inline CSS and SVG, no scripts, no network) from the dashboard document."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from crypto_observability.log_analyzer._plain import safe
from crypto_observability.log_analyzer.svg import bar_list, line_chart
from crypto_observability.log_analyzer.trace_html import journey_traces_html

from ._files import private_dir, private_file

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{margin:0 0 4px} h2{margin-top:32px;border-bottom:1px solid #ddd}
.score{font-size:56px;font-weight:700} .healthy{color:#16a34a} .degraded{color:#ea580c}
.unhealthy{color:#dc2626} .unknown{color:#666}
table{border-collapse:collapse;width:100%;margin:8px 0} td,th{border-bottom:1px solid #eee;padding:4px 6px;
text-align:left;vertical-align:top} th{background:#f6f6f6} .chart,.bars{width:100%;max-width:720px;height:auto}
.grid{stroke:#e5e7eb} .tick{font-size:11px;fill:#555} .legend{font-size:12px} code{font-size:12px}
.muted{color:#666}
"""


def _table(rows: list[dict[str, Any]], columns: list[str], table_id: str) -> str:
    if not rows:
        return f'<p id="{table_id}" class="muted">none</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(safe(_cell(r.get(c))))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _window_labels(ts: dict[str, Any]) -> list[str]:
    """Return the start of every window from the first to the last one with records (empty ones included)."""
    buckets, width = ts["buckets"], ts["bucket_seconds"]
    if not buckets or not width:
        return []
    first = datetime.fromisoformat(buckets[0]["start"].replace("Z", "+00:00"))
    origin = first.timestamp() // width * width
    return [datetime.fromtimestamp(origin + index * width, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for index in range(buckets[-1]["bucket"] + 1)]


def _spread(points: list[dict[str, Any]], key: str, count: int) -> list[float | None]:
    """Return ``key`` of each window's point at its window's position (None where a window has no records)."""
    values: list[float | None] = [None] * count
    for point in points:
        values[point["bucket"]] = point[key]
    return values


def _resources(doc: dict[str, Any], labels: list[str]) -> tuple[dict[str, list[float | None]], ...]:
    """Return each service's average memory (MB) and CPU (%) per chart window."""
    memory: dict[str, list[float | None]] = {}
    cpu: dict[str, list[float | None]] = {}
    index = {label: i for i, label in enumerate(labels)}
    for row in doc["performance"]["resources"]:
        width = doc["timeseries"]["bucket_seconds"] or 60
        moment = datetime.fromisoformat(row["start"].replace("Z", "+00:00")).timestamp() // width * width
        at = index.get(datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        if at is None:
            continue
        memory.setdefault(row["service"], [None] * len(labels))[at] = row["memory_avg_mb"]
        cpu.setdefault(row["service"], [None] * len(labels))[at] = row["cpu_avg"]
    return memory, cpu


def _charts(doc: dict[str, Any]) -> str:
    ts = doc["timeseries"]
    labels = _window_labels(ts)
    count = len(labels)
    marks = {"markers": doc.get("changes", []), "width_s": ts["bucket_seconds"] or 60}
    memory, cpu = _resources(doc, labels)
    errors = {"all": _spread(ts["buckets"], "error_rate", count)}
    errors |= {service: _spread(points, "error_rate", count) for service, points in ts["error_rate_by_service"].items()}
    latency = {name: _spread(ts["buckets"], f"{name}_ms", count) for name in ("p50", "p95", "p99")}
    exchanges = {name: _spread(points, "success_rate", count) for name, points in ts["exchange_success"].items()}
    return "".join([
        '<p class="muted">Dashed lines mark what changed: D deploy, R restart, C configuration change '
        "(hover for details; listed under What changed).</p>",
        "<h2>Error rate over time</h2>",
        line_chart("chart-error-rate", "Share of errors (ERROR+ records)", labels, errors, **marks),
        "<h2>Latency percentiles over time</h2>",
        line_chart("chart-latency", "response_time_ms percentiles", labels, latency, " ms", **marks),
        "<h2>Exchange reliability over time</h2>",
        line_chart("chart-exchanges", "Exchange call success rate", labels, exchanges, top=1.0, **marks),
        "<h2>Memory and CPU over time</h2>",
        line_chart("chart-memory", "Average memory per service (MB)", labels, memory, " MB", **marks),
        line_chart("chart-cpu", "Average CPU per service (%)", labels, cpu, " %", **marks),
    ])


def render_html(doc: dict[str, Any]) -> str:
    """Render the dashboard document as a complete HTML page."""
    health, inp = doc["health"], doc["input"]
    grade = health["grade"]
    read = f"the store {inp['source']}" if inp.get("source") else f"{len(inp['files'])} files"
    services = [{"service": s["service"], "score": s["score"], "grade": s["grade"], **s["components"]}
                for s in health["services"]]
    journeys = [{**j, "slowest_step": (f"{j['slowest_step']['service']} {j['slowest_step']['event']} "
                                       f"(+{j['slowest_step']['gap_ms']:.0f} ms)") if j["slowest_step"] else ""}
                for j in doc["journeys"]["slowest"]]
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        f"<title>log-analyzer report</title><style>{_CSS}</style></head><body>",
        "<h1>crypto-assistant log report</h1>",
        f'<p class="muted">{inp["records"]:,} records from {escape(read)}, {escape(str(inp["start"]))}'
        f' to {escape(str(inp["end"]))}; {inp["malformed"]["count"]} malformed lines; '
        f"generated {escape(doc['generated_at'])}</p>",
        f'<h2>Health</h2><div id="health-score" class="score {grade}">{_cell(health["score"])}</div>'
        f"<p>{escape(grade)} (0-100; formula in docs/log_analyzer.md)"
        f"{'; ' + escape(health['freshness_note']) if health.get('freshness_note') else ''}</p>",
        bar_list("chart-health", health["components"]),
        _table(services, ["service", "score", "grade", *health["weights"]], "table-health"),
        _charts(doc),
        f"<h2>Top patterns of {escape(doc['errors']['counts'])}</h2>",
        _table(doc["errors"]["patterns"][:15], ["template", "count", "users", "trend", "spike", "services",
                                                "first_seen", "last_seen", "example"], "table-errors"),
        "<h2>Exchanges</h2>",
        _table(doc["exchanges"]["exchanges"], ["rank", "exchange", "calls", "failures", "success_rate", "p50_ms",
                                               "p95_ms",
                                               "rate_limit_hits", "errors_by_type", "data_quality_flags"],
               "table-exchanges"),
        "<h2>Slowest journeys</h2>",
        _table(journeys, ["request_id", "user", "command", "services", "duration_ms", "failed", "slowest_step"],
               "table-journeys"),
        journey_traces_html(doc["journeys"]),  # waterfalls of the slowest and failed journeys (trace_html.py)
        "<h2>Incidents</h2><p class=\"muted\">From first to last failure, found at a 10 s resolution.</p>",
        _table([{**i, "top_causes": "; ".join(c["cause"] for c in i["top_causes"])}
                for i in doc["performance"]["incidents"]],
               ["start", "end", "recovery_seconds", "failures", "failure_share", "ongoing", "top_causes"],
               "table-incidents"),
        "<h2>What changed</h2>",
        _table(doc.get("changes", []), ["time", "service", "kind", "detail"], "table-changes"),
        "<h2>Memory and CPU by service</h2>",
        _table(doc["performance"]["resources_by_service"], ["service", "memory_avg_mb", "memory_max_mb", "cpu_avg",
                                                            "cpu_max", "samples"], "table-resources"),
        "<h2>Malformed lines</h2>",
        _table(inp["malformed"]["lines"][:50], ["file", "line", "reason", "excerpt"], "table-malformed"),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_html(doc: dict[str, Any], path: Path) -> Path:
    """Write the report page to ``path`` (parents created) and return it."""
    private_dir(path.parent)
    path.write_text(render_html(doc), encoding="utf-8")
    return private_file(path)
