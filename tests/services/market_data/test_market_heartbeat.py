"""market-data's INFO summaries: config_loaded at start, cache_stats and exchange health checks each interval."""

from __future__ import annotations

from crypto_observability.shared.config_event import config_hash, log_config_loaded
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs
from services.market_data.cache import TTLCache
from services.market_data.config import MarketDataSettings
from services.market_data.heartbeat import Heartbeat
from services.market_data.market_logger import MarketLogger


async def _value() -> int:
    return 1


async def test_heartbeat_logs_cache_figures_and_exchange_health_at_info() -> None:
    """One beat logs the interval's hits and misses and each called exchange's health, at INFO, then starts afresh."""
    with capture_logs("INFO") as logs:
        events = MarketLogger()
        cache = TTLCache(60.0, events)
        for key in ("a", "a", "a", "b"):
            await cache.get_or_fetch(key, _value)
        events.exchange_api_call("okx", "fetch_ticker", "BTC/USDT:USDT", 12.0)
        events.exchange_api_call("bybit", "fetch_ticker", "BTC/USDT:USDT", 3.0, error=RuntimeError("down"))
        heart = Heartbeat(events, cache, ("okx", "bybit", "binanceusdm"), interval_s=30.0)
        heart.beat()
        heart.beat()
    stats = [r["context"] for r in logs.records if r.get("event") == "cache_stats"]
    checks = {r["context"]["component"]: (r["level"], r["context"]["healthy"]) for r in logs.records
              if r.get("event") == "health_check"}
    assert [(s["hits"], s["misses"], s["entries"]) for s in stats] == [(2, 2, 2)]
    assert checks == {"exchange:okx": ("INFO", True), "exchange:bybit": ("WARNING", False)}


def test_config_loaded_carries_the_hash_of_the_effective_config() -> None:
    """config_loaded names the component and the first 12 hex of the config's SHA-256, which changes with it."""
    settings = MarketDataSettings(cache_ttl_s=5.0)
    with capture_logs("INFO") as logs:
        log_config_loaded(create_structured_logger("market-data", "api"), "market-data", settings)
    [record] = [r for r in logs.records if r.get("event") == "config_loaded"]
    assert record["context"] == {"component": "market-data", "config_hash": config_hash(settings)}
    assert len(config_hash(settings)) == 12 and int(config_hash(settings), 16) >= 0
    assert config_hash(settings) != config_hash(MarketDataSettings(cache_ttl_s=6.0))
