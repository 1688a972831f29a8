"""What changed and the INFO summaries: markers from deploys, restarts and configs; cache and connectivity filled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.html_report import render_html
from crypto_observability.shared.config_event import log_config_loaded
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs
from services.market_data.cache import TTLCache
from services.market_data.config import MarketDataSettings
from services.market_data.heartbeat import Heartbeat
from services.market_data.market_logger import MarketLogger

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def _rec(second: int, commit: str, event: str | None = None, **context: Any) -> dict[str, Any]:
    record = {"timestamp": f"2025-01-15T10:{second // 60:02d}:{second % 60:02d}.000Z", "service": "market-data",
              "module": "api", "level": "INFO", "message": "m", "context": context, "git_commit": commit,
              "performance": {"memory_usage_mb": 100.0 + second, "cpu_percent": 5.0}}
    return record | ({"event": event} if event else {})


def test_deploys_restarts_and_config_changes_are_markers(tmp_path: Path) -> None:
    """A new git_commit is a deploy, each config_loaded a restart, a new config_hash a config change: all charted."""
    records = [_rec(0, "aaa1111", "config_loaded", component="market-data", config_hash="111111111111")]
    records += [_rec(s, "aaa1111") for s in range(1, 300, 10)]
    records += [_rec(300, "bbb2222", "config_loaded", component="market-data", config_hash="222222222222")]
    records += [_rec(s, "bbb2222") for s in range(301, 600, 10)]
    (tmp_path / "market-data.log").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    ds = load([str(tmp_path)])
    try:
        doc = build_dashboard(ds, NOW)
    finally:
        ds.close()
    assert [(c["time"], c["kind"]) for c in doc["changes"]] == [
        ("2025-01-15T10:00:00.000Z", "restart"), ("2025-01-15T10:05:00.000Z", "config change"),
        ("2025-01-15T10:05:00.000Z", "deploy"), ("2025-01-15T10:05:00.000Z", "restart")]
    html = render_html(doc)
    for chart in ("chart-error-rate", "chart-latency", "chart-memory", "chart-cpu"):
        svg = html[html.index(f'id="{chart}"'):]
        svg = svg[:svg.index("</svg>")]
        assert svg.count('class="marker"') == 4 and 'data-kind="deploy"' in svg, chart


async def _value() -> int:
    return 1


async def test_what_the_services_log_at_info_fills_cache_and_connectivity(tmp_path: Path) -> None:
    """market-data's INFO records alone (config, cache_stats, health checks) fill the cache and connectivity tables."""
    with capture_logs("INFO") as logs:
        events = MarketLogger()
        log_config_loaded(create_structured_logger("market-data", "api"), "market-data", MarketDataSettings())
        cache = TTLCache(60.0, events)
        for key in ("a", "a", "b"):
            await cache.get_or_fetch(key, _value)
        events.exchange_api_call("okx", "fetch_ticker", "BTC/USDT:USDT", 12.0)
        Heartbeat(events, cache, ("okx",)).beat()
    (tmp_path / "market-data.log").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in logs.records))
    ds = load([str(tmp_path)])
    try:
        doc = build_dashboard(ds, NOW)
    finally:
        ds.close()
    perf = doc["performance"]
    assert [(c["hits"], c["misses"], c["from"]) for c in perf["cache"]] == [(1, 2, "cache_stats")]
    assert [(c["component"], c["checks"], c["healthy"]) for c in perf["connectivity"]] == [("exchange:okx", 1, 1)]
    assert [c["kind"] for c in doc["changes"]] == ["restart"]
