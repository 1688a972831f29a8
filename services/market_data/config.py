"""market-data settings from the environment: which exchanges, where they are, how long to cache."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from crypto_observability.shared.settings import ConfigError

SUPPORTED_EXCHANGES = ("binanceusdm", "bybit", "okx")


@dataclass(frozen=True, slots=True)
class MarketDataSettings:
    """Exchanges are the real ones unless EXCHANGE_SIMULATOR_URL points them at the simulator."""

    exchanges: tuple[str, ...] = SUPPORTED_EXCHANGES
    simulator_url: str | None = None
    timeout_ms: int = 5000
    cache_ttl_s: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8000
    heartbeat_s: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MarketDataSettings:
        """Read EXCHANGES, EXCHANGE_SIMULATOR_URL, EXCHANGE_TIMEOUT_MS, CACHE_TTL_S, HOST, PORT, HEARTBEAT_S."""
        env = os.environ if environ is None else environ
        raw = env.get("EXCHANGES", ",".join(SUPPORTED_EXCHANGES))
        exchanges = tuple(e.strip() for e in raw.split(",") if e.strip())
        if not exchanges or any(e not in SUPPORTED_EXCHANGES for e in exchanges):
            raise ConfigError("EXCHANGES", raw, "a comma list of " + ", ".join(SUPPORTED_EXCHANGES))
        simulator = env.get("EXCHANGE_SIMULATOR_URL") or None
        if simulator and not simulator.startswith(("http://", "https://")):
            raise ConfigError("EXCHANGE_SIMULATOR_URL", simulator, "a URL like http://127.0.0.1:8089")
        return cls(exchanges=exchanges, simulator_url=simulator,
                   timeout_ms=_int(env, "EXCHANGE_TIMEOUT_MS", 5000, 100, 120_000),
                   cache_ttl_s=float(_int(env, "CACHE_TTL_S", 5, 0, 3600)),
                   host=env.get("HOST", "127.0.0.1"), port=_int(env, "PORT", 8000, 0, 65535),
                   heartbeat_s=float(_int(env, "HEARTBEAT_S", 30, 1, 3600)))


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().isdigit() and low <= int(raw) <= high:
        return int(raw)
    raise ConfigError(name, raw, f"a whole number from {low} to {high}")
