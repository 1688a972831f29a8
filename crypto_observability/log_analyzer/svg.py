"""Inline SVG line charts for the offline HTML report: no JavaScript, no CDN, just markup."""

from __future__ import annotations

from datetime import datetime
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f")
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 240, 56, 16, 16, 36


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def tick_format(labels: list[str]) -> str:
    """Return the strftime format the time axis needs: seconds under an hour, the date beyond a day."""
    if len(labels) < 2:
        return "%H:%M:%S"
    span = (_moment(labels[-1]) - _moment(labels[0])).total_seconds()
    return "%H:%M:%S" if span < 3600 else "%H:%M" if span < 86400 else "%m-%d %H:%M"


def _moment(label: str) -> datetime:
    return datetime.fromisoformat(label.replace("Z", "+00:00"))


def _time_ticks(labels: list[str], count: int = 5) -> list[str]:
    """Return up to ``count`` distinct time labels under the x axis, the outer ones anchored inside the chart."""
    if not labels:
        return []
    fmt, last = tick_format(labels), len(labels) - 1
    indexes = sorted({round(last * k / (count - 1)) for k in range(count)})
    parts, seen = [], set()
    for index in indexes:
        text = _moment(labels[index]).strftime(fmt)
        if text in seen:
            continue
        seen.add(text)
        x = PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * index / max(1, last)
        anchor = "start" if index == 0 and last else "end" if index == last and last else "middle"
        parts.append(f'<text class="tick time" x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">'
                     f"{escape(text)}</text>")
    return parts


def _points(values: list[float | None], top: float) -> list[list[tuple[float, float]]]:
    """Return the plotted (x, y) segments, broken where a value is missing."""
    count = max(1, len(values) - 1)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    segments: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        x = PAD_LEFT + plot_w * index / count
        y = PAD_TOP + plot_h * (1 - (value / top if top else 0))
        segments[-1].append((round(x, 1), round(y, 1)))
    return [s for s in segments if s]


MARKER_COLOURS = {"deploy": "#7c3aed", "restart": "#0f766e", "config change": "#b45309"}


def _markers(labels: list[str], width_s: float, markers: list[dict[str, str]]) -> list[str]:
    """Return a dashed vertical line, with a hover title, at each marker's time inside the chart's span."""
    if not labels or not markers:
        return []
    first = _moment(labels[0]).timestamp()
    span = max(width_s, (len(labels) - 1) * width_s)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    parts = []
    for marker in markers:
        offset = (_moment(marker["time"]).timestamp() - first) / span if len(labels) > 1 else 0.0
        if not 0.0 <= offset <= 1.0 + width_s / span:
            continue
        x = PAD_LEFT + plot_w * min(1.0, offset)
        colour = MARKER_COLOURS.get(marker["kind"], "#444")
        parts.append(f'<line class="marker" data-kind="{escape(marker["kind"])}" x1="{x:.1f}" x2="{x:.1f}" '
                     f'y1="{PAD_TOP}" y2="{HEIGHT - PAD_BOTTOM}" stroke="{colour}" stroke-width="1.5" '
                     f'stroke-dasharray="4 3"><title>{escape(marker["time"])} {escape(marker["service"])} '
                     f'{escape(marker["kind"])}: {escape(marker["detail"])}</title></line>')
        parts.append(f'<text class="marker-label" x="{x + 3:.1f}" y="{HEIGHT - PAD_BOTTOM - 4}" '
                     f'fill="{colour}">{escape(marker["kind"][0].upper())}</text>')
    return parts


def line_chart(chart_id: str, title: str, labels: list[str], series: dict[str, list[float | None]],
               unit: str = "", top: float | None = None, markers: list[dict[str, str]] | None = None,
               width_s: float = 60.0) -> str:
    """Return an ``<svg>`` line chart of ``series`` over ``labels`` (x axis), one colour per series.

    ``markers`` (deploys, restarts, configuration changes) are dashed vertical lines labelled D, R or C.
    """
    values = [v for vals in series.values() for v in vals if v is not None]
    top = top if top is not None else (max(values) * 1.1 if values else 1.0) or 1.0
    parts = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    for tick in range(5):
        y = PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * tick / 4
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y}" y2="{y}"/>')
        parts.append(f'<text class="tick" x="{PAD_LEFT - 6}" y="{y + 4}" text-anchor="end">'
                     f"{escape(_fmt(top * (4 - tick) / 4))}{escape(unit)}</text>")
    parts += _time_ticks(labels)
    parts += _markers(labels, width_s, markers or [])
    for number, (name, vals) in enumerate(series.items()):
        colour = PALETTE[number % len(PALETTE)]
        for segment in _points(vals, top):
            points = " ".join(f"{x},{y}" for x, y in segment)
            parts.append(f'<polyline class="series" data-series="{escape(name)}" data-points="{len(segment)}" '
                         f'fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
            if len(segment) == 1:  # a lone window between gaps: a dot, as a one-point line draws nothing
                parts.append(f'<circle class="point" cx="{segment[0][0]}" cy="{segment[0][1]}" r="2.5" '
                             f'fill="{colour}"/>')
        parts.append(f'<text class="legend" x="{PAD_LEFT + 8 + 120 * number}" y="{PAD_TOP + 12}" '
                     f'fill="{colour}">{escape(name)}</text>')
    if not values:
        parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_list(chart_id: str, items: dict[str, float | None], top: float = 100.0) -> str:
    """Return an ``<svg>`` of horizontal bars (e.g. health components out of 100)."""
    row_h = 26
    height = row_h * max(1, len(items)) + 8
    parts = [f'<svg id="{escape(chart_id)}" class="bars" viewBox="0 0 {WIDTH} {height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for index, (name, value) in enumerate(items.items()):
        y = 4 + index * row_h
        width = 0.0 if value is None else (WIDTH - 260) * max(0.0, min(1.0, value / top))
        colour = "#16a34a" if (value or 0) >= 90 else "#ea580c" if (value or 0) >= 70 else "#dc2626"
        parts.append(f'<text x="0" y="{y + 16}">{escape(name)}</text>')
        parts.append(f'<rect class="bar" data-value="{value}" x="160" y="{y + 3}" width="{width:.1f}" '
                     f'height="{row_h - 8}" fill="{colour}"/>')
        label = "n/a" if value is None else f"{value:.1f}"
        parts.append(f'<text x="{170 + width:.1f}" y="{y + 16}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
