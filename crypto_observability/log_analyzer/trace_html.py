"""The trace waterfall in the HTML report: one section per slowest or failed journey, linked by request id.

Built from the journeys analysis's steps (the report's own data); plain HTML and inline CSS widths,
no script, like the rest of the report. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from crypto_observability.log_analyzer.trace import build_trace

_CSS = ("<style>.wf{font:12px/1.5 ui-monospace,monospace;width:100%}.wf td{padding:1px 4px;border:0}"
        ".wf .lane{position:relative;width:45%;background:#f6f6f6}.wf .bar{position:absolute;top:3px;height:10px;"
        "background:#0891b2;min-width:2px}.wf .failed .bar{background:#dc2626}.wf .failed{color:#b91c1c}"
        ".wf .slowest{font-weight:700}</style>")


def anchor(request_id: str) -> str:
    """Return the id of a journey's trace section in the page."""
    return "trace-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in request_id)


def _waterfall(trace: Mapping[str, Any]) -> str:
    total = trace["duration_ms"] or 1.0
    rows = []
    for step in trace["steps"]:
        left = 100.0 * step["start_ms"] / total
        width = 100.0 * (step["offset_ms"] - step["start_ms"]) / total
        classes = " ".join(c for c in ("failed" if step["failed"] else "", "slowest" if step["slowest"] else "") if c)
        note = (" ✗" if step["failed"] else "") + (f" ◀ slowest (+{step['gap_ms']:.0f} ms)" if step["slowest"] else "")
        rows.append(
            f'<tr class="{classes}"><td>+{step["offset_ms"]:.0f} ms</td><td>{escape(str(step["service"]))}</td>'
            f'<td>{escape(str(step.get("event") or step.get("level") or ""))}</td>'
            f'<td class="lane"><span class="bar" style="left:{left:.2f}%;width:{width:.2f}%"></span></td>'
            f'<td>{step["duration_ms"]:.0f} ms</td>'
            f'<td>{escape(str(step.get("message") or ""))}{escape(note)}</td></tr>')
    return f'<table class="wf"><tbody>{"".join(rows)}</tbody></table>'


def journey_traces_html(journeys: Mapping[str, Any]) -> str:
    """Return the report's trace section: links from the slowest and failed journeys to their waterfalls."""
    lists = {"Slowest": journeys.get("slowest") or [], "Failed": journeys.get("failures") or []}
    seen: dict[str, Mapping[str, Any]] = {}
    links = []
    for title, rows in lists.items():
        items = []
        for row in rows:
            rid = str(row["request_id"])
            seen.setdefault(rid, row)
            items.append(f'<a href="#{anchor(rid)}">{escape(rid)}</a> ({row["duration_ms"]:.0f} ms)')
        links.append(f"<p>{title}: {', '.join(items) or 'none'}</p>")
    sections = []
    for rid, row in seen.items():
        trace = build_trace(rid, row.get("steps") or [])
        if not trace["found"]:
            continue
        head = (f"{escape(rid)}: {escape(' → '.join(trace['services']))}, {len(trace['steps'])} steps, "
                f"{trace['duration_ms']:.0f} ms{', failed' if trace['failed'] else ''}")
        sections.append(f'<details id="{anchor(rid)}" open><summary>{head}</summary>{_waterfall(trace)}</details>')
    return (f'<h2 id="traces">Journey traces</h2>{_CSS}<div id="journey-traces">{"".join(links)}'
            f'{"".join(sections)}</div>')
