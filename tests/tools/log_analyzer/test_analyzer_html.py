"""The HTML report is one offline file whose SVG charts render in headless Chromium without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.html_report import write_html
from crypto_observability.log_analyzer.svg import line_chart, tick_format

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def test_html_report_renders_charts_offline_in_chromium(log_dir: Path, tmp_path: Path) -> None:
    """Charts have plotted series, the health score shows, no request leaves the file, no console errors."""
    ds = load([str(log_dir)], cache_dir=tmp_path / "cache")
    page_path = write_html(build_dashboard(ds), tmp_path / "report.html")
    ds.close()
    html = page_path.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(page_path.as_uri())
        for chart in ("chart-error-rate", "chart-latency", "chart-exchanges", "chart-memory", "chart-cpu"):
            points = page.eval_on_selector_all(f"#{chart} polyline", "els => els.map(e => e.points.numberOfItems)")
            assert points and sum(points) > 10, chart
            box = page.locator(f"#{chart}").bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
        assert page.locator("#health-score").inner_text().strip().replace(".", "").isdigit()
        assert page.locator("#table-errors tbody tr").count() > 0
        assert page.locator("#table-journeys tbody tr").count() > 0
        for chart in ("chart-error-rate", "chart-latency", "chart-exchanges", "chart-memory", "chart-cpu"):
            frame = page.locator(f"#{chart}").bounding_box()
            ticks = [page.locator(f"#{chart} text.time").nth(i).bounding_box()
                     for i in range(page.locator(f"#{chart} text.time").count())]
            assert frame is not None and len(ticks) >= 2, chart
            assert all(t is not None and frame["x"] <= t["x"] and t["x"] + t["width"] <= frame["x"] + frame["width"]
                       for t in ticks), chart
        browser.close()
    finally:
        pw.stop()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []


@pytest.mark.parametrize(("last", "expected"), [
    ("2025-01-15T00:40:00.000Z", "%H:%M:%S"), ("2025-01-15T20:00:00.000Z", "%H:%M"),
    ("2025-01-17T00:00:00.000Z", "%m-%d %H:%M"),
])
def test_time_ticks_are_formatted_by_span(last: str, expected: str) -> None:
    """Under an hour the ticks show seconds, under a day hours and minutes, beyond that the date too."""
    assert expected == tick_format(["2025-01-15T00:00:00.000Z", last])


def test_time_ticks_are_distinct_and_anchored_inside() -> None:
    """A short span gives distinct tick labels; the first starts at the axis, the last ends at the right edge."""
    labels = [f"2025-01-15T00:00:{s:02d}.000Z" for s in range(48)]
    svg = line_chart("c", "t", labels, {"a": [1.0] * 48})
    ticks = re.findall(r'<text class="tick time"[^>]*text-anchor="(\w+)">([^<]*)</text>', svg)
    assert ticks == [("start", "00:00:00"), ("middle", "00:00:12"), ("middle", "00:00:24"), ("middle", "00:00:35"),
            ("end", "00:00:47")]
