"""Deterministic, schema-valid log records for benchmarks and tests: two services, journeys, an incident.

The stream is a day in the life of the crypto-assistant: users send bot commands (telegram-bot),
the bot asks market-data, market-data reads exchanges through a cache. Between 55 % and 65 % of the
stream an incident happens: binance answers 429 (rate limited) most of the time and kraken is six
times slower; afterwards everything recovers. Same ``seed`` and ``n``, same records, byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import random
import shutil
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

Record = dict[str, object]

BOT = "telegram-bot"
MARKET = "market-data"
SERVICES: tuple[str, ...] = (BOT, MARKET)
DEFAULT_START = datetime(2025, 1, 15, 0, 0, 0, tzinfo=UTC)
EXCHANGES = ("binance", "kraken", "coinbase", "okx")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT", "ADA/USDT")
COMMANDS = ("/price", "/price", "/price", "/orderbook", "/arbitrage", "/alerts", "/start", "/help")
COMMANDS_WITHOUT_MARKET = frozenset({"/start", "/help", "/alerts"})
BASE_LATENCY_MS = {"binance": 80.0, "kraken": 140.0, "coinbase": 110.0, "okx": 95.0}
FLAG_SETS = (["stale_price"], ["price_spike"], ["stale_price", "zero_volume"], ["missing_field"])
HANDLER_EXCEPTION = {"type": "KeyError", "message": "'chat'", "stacktrace": (
    'Traceback (most recent call last):\n  File "bot/handlers.py", line 88, in on_update\n'
    "KeyError: 'chat'")}
PRIMARY_WEIGHTS = (0.4, 0.2, 0.2, 0.2)  # binance is the users' default exchange
INCIDENT = (0.55, 0.65)
RATE_LIMITED_EXCHANGE = "binance"
SLOW_EXCHANGE = "kraken"
CONTAINERS = {BOT: "crypto-assistant-telegram-bot-1", MARKET: "crypto-assistant-market-data-1"}
BASE_MEMORY_MB = {BOT: 180.0, MARKET: 320.0}
GIT_COMMIT = "3f9c2ab"


def fingerprint(error_type: str, template: str) -> str:
    """Return the stable 16-hex fingerprint the core library gives an error of this type and template."""
    return hashlib.sha1(f"{error_type}|{template}".encode()).hexdigest()[:16]


ERRORS = {
    "rate_limit": ("DDoSProtection", "rate_limit", "medium", "Rate limit exceeded on <*> <*> <*>"),
    "timeout": ("RequestTimeout", "timeout", "medium", "Timeout after <*>ms calling <*> <*> <*>"),
    "unavailable": ("ExchangeNotAvailable", "exchange", "high", "Exchange <*> unavailable: HTTP <*>"),
    "bad_symbol": ("BadSymbol", "validation", "low", "Invalid symbol <*> requested on <*>"),
    "handler": ("KeyError", "application", "high", "Unhandled error while processing update <*>: <*>"),
    "pool": ("PoolExhausted", "resource", "critical", "Connection pool exhausted (size=<*>, waiting=<*>)"),
    "upstream": ("HTTPStatusError", "upstream", "medium", "market-data returned <*> for <*>"),
}


def _error(key: str) -> dict[str, str]:
    etype, category, severity, template = ERRORS[key]
    return {"type": etype, "category": category, "severity": severity,
            "fingerprint": fingerprint(etype, template)}


class _Clock:
    """Millisecond clock that renders RFC 3339 timestamps, formatting each second only once."""

    def __init__(self, start: datetime) -> None:
        self.ms = int(start.timestamp() * 1000)
        self._sec = -1
        self._prefix = ""

    def stamp(self, ms: int | None = None) -> str:
        ms = self.ms if ms is None else ms
        sec, frac = divmod(ms, 1000)
        if sec != self._sec:
            self._sec = sec
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return f"{self._prefix}.{frac:03d}Z"


class _Generator:
    """Stateful walk through the day; each ``_journey``/``_background`` call yields a few records."""

    def __init__(self, n: int, seed: int, start: datetime, services: Iterable[str]) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.clock = _Clock(start)
        self.start_ms = self.clock.ms
        self.services = frozenset(services)
        self.users = [f"u_{self.rng.getrandbits(64):016x}" for _ in range(max(8, min(2000, n // 50)))]
        self.update_id = 100_000 + seed * 1000
        self.emitted = 0

    # -- helpers ---------------------------------------------------------------------------------
    def phase(self) -> float:
        return self.emitted / self.n if self.n else 0.0

    def incident(self) -> bool:
        return INCIDENT[0] <= self.phase() < INCIDENT[1]

    def perf(self, service: str) -> dict[str, float]:
        hours = (self.clock.ms - self.start_ms) / 3_600_000
        mem = BASE_MEMORY_MB[service] + 40 * math.sin(hours / 3) + self.rng.random() * 5
        cpu = 8 + 20 * (0.5 + 0.5 * math.sin(hours)) + self.rng.random() * 10 + (25 if self.incident() else 0)
        return {"memory_usage_mb": round(mem, 2), "cpu_percent": round(cpu, 1)}

    def record(self, service: str, module: str, level: str, message: str, context: dict[str, object],
               **optional: object) -> dict[str, object]:
        rec: dict[str, object] = {
            "timestamp": self.clock.stamp(), "service": service, "module": module, "level": level,
            "message": message, "context": context, "docker_container": CONTAINERS[service],
            "git_commit": GIT_COMMIT, "environment": "production", "performance": self.perf(service),
        }
        for key in ("event", "logger", "request_id", "trace_id", "span_id", "user", "error", "exception"):
            value = optional.get(key)
            if value is not None:
                rec[key] = value
        return rec

    def advance(self, ms: float) -> None:
        self.clock.ms += max(1, int(ms))

    def latency(self, exchange: str) -> float:
        base = BASE_LATENCY_MS[exchange] * (6.0 if exchange == SLOW_EXCHANGE and self.incident() else 1.0)
        return round(self.rng.lognormvariate(math.log(base), 0.45), 2)

    # -- journeys --------------------------------------------------------------------------------
    def journey(self) -> list[dict[str, object]]:
        """One user command, followed through telegram-bot -> market-data -> exchanges and back."""
        rng = self.rng
        user = rng.choice(self.users)
        command = rng.choice(COMMANDS)
        symbol = rng.choice(SYMBOLS)
        request_id = f"{rng.getrandbits(128):032x}"
        trace_id = f"{rng.getrandbits(128):032x}"
        ids = {"request_id": request_id, "trace_id": trace_id, "user": user}
        out: list[Record] = []
        started = self.clock.ms
        success = True
        if command not in COMMANDS_WITHOUT_MARKET:
            out.append(self.record(BOT, "bot.market_client", "INFO", f"Requesting {symbol} from market-data",
                                   {"symbol": symbol, "endpoint": "/api/v1/ticker/{symbol}"},
                                   event="market_data_request", span_id=f"{rng.getrandbits(64):016x}", **ids))
            self.advance(rng.uniform(1, 4))
            ok, status, upstream_ms = self._market(symbol, ids, out)
            success = ok
            level = "INFO" if ok else "ERROR"
            msg = (f"market-data answered {status} for {symbol} in {upstream_ms:.0f}ms" if ok
                   else f"market-data returned {status} for {symbol}")
            self.advance(rng.uniform(1, 3))
            out.append(self.record(BOT, "bot.market_client", level, msg,
                                   {"symbol": symbol, "success": ok, "status_code": status,
                                    "response_time_ms": round(self.clock.ms - started, 2)},
                                   event="market_data_response", error=None if ok else _error("upstream"),
                                   **ids))
        else:
            self.advance(rng.uniform(2, 15))
        self.advance(rng.uniform(5, 30))
        elapsed = round(self.clock.ms - started + rng.random(), 2)
        level = "INFO" if success else "WARNING"
        verb = "completed" if success else "failed"
        out.append(self.record(BOT, "bot.handlers", level, f"Command {command} {verb} in {elapsed:.0f}ms",
                               {"command": command, "success": success, "response_time_ms": elapsed},
                               event="bot_command", **ids))
        return out

    def _market(self, symbol: str, ids: dict[str, str], out: list[Record]) -> tuple[bool, int, float]:
        """Serve one ticker request in market-data: cache, then exchanges with fallback."""
        rng = self.rng
        t0 = self.clock.ms
        hit = rng.random() < 0.35
        word = "hit" if hit else "miss"
        out.append(self.record(MARKET, "market.cache", "DEBUG", f"Cache {word} for ticker:{symbol}",
                               {"operation": "get", "hit": hit, "key": f"ticker:{symbol}"},
                               event="cache_operation", **ids))
        ok, status = True, 200
        if not hit:
            primary = rng.choices(EXCHANGES, weights=PRIMARY_WEIGHTS)[0]
            order = [primary, *[e for e in EXCHANGES if e != primary][:1]]
            for exchange in order:
                ok = self._exchange_call(exchange, symbol, ids, out)
                if ok:
                    break
            if not ok:
                status = 502
        self.advance(rng.uniform(0.5, 3))
        elapsed = round(self.clock.ms - t0 + rng.random(), 2)
        level = "INFO" if ok else "ERROR"
        out.append(self.record(MARKET, "market.middleware", level, f"GET /api/v1/ticker/{symbol} {status}",
                               {"method": "GET", "path": "/api/v1/ticker/{symbol}", "status_code": status,
                                "response_time_ms": elapsed},
                               event="http_request", logger="market_data.access", **ids))
        return ok, status, elapsed

    def _exchange_call(self, exchange: str, symbol: str, ids: dict[str, str], out: list[Record]) -> bool:
        rng = self.rng
        method = "fetch_ticker" if rng.random() < 0.8 else "fetch_order_book"
        latency = self.latency(exchange)
        self.advance(latency)
        failure = self._failure(exchange, symbol)
        ctx: dict[str, object] = {"exchange": exchange, "method": method, "symbol": symbol,
                                  "success": failure is None, "response_time_ms": latency}
        if failure is None:
            out.append(self.record(MARKET, "market.exchange", "INFO",
                                   f"{exchange} {method} {symbol} ok in {latency:.0f}ms", ctx,
                                   event="exchange_api_call", **ids))
            return True
        ctx["error_type"] = failure
        if failure == "rate_limit":
            retry = round(rng.uniform(0.5, 5), 1)
            out.append(self.record(MARKET, "market.exchange", "WARNING",
                                   f"Rate limit hit on {exchange}, retry after {retry}s",
                                   {"exchange": exchange, "retry_after": retry},
                                   event="rate_limit_hit", **ids))
            msg = f"Rate limit exceeded on {exchange} {method} {symbol}"
        elif failure == "timeout":
            msg = f"Timeout after {latency:.0f}ms calling {exchange} {method} {symbol}"
        elif failure == "unavailable":
            msg = f"Exchange {exchange} unavailable: HTTP 503"
        else:
            msg = f"Invalid symbol {symbol} requested on {exchange}"
        level = "ERROR" if failure == "unavailable" else "WARNING"
        out.append(self.record(MARKET, "market.exchange", level, msg, ctx, event="exchange_api_call",
                               error=_error(failure), **ids))
        return False

    def _failure(self, exchange: str, symbol: str) -> str | None:
        r = self.rng.random()
        if exchange == RATE_LIMITED_EXCHANGE and self.incident() and r < 0.8:
            return "rate_limit"
        if r < 0.004:
            return "timeout"
        if r < 0.006:
            return "unavailable"
        if r < 0.007:
            return "bad_symbol"
        if r < 0.012 and exchange == "okx":
            return "rate_limit"
        return None

    # -- background --------------------------------------------------------------------------------
    def background(self) -> dict[str, object]:
        """One record not tied to a user: polling, health checks, data quality, security, crashes."""
        rng = self.rng
        r = rng.random()
        self.advance(rng.expovariate(1 / 25))
        if r < 0.45:
            self.update_id += 1
            return self.record(BOT, "telegram.ext.updater", "DEBUG",
                               f"Polling for updates offset={self.update_id}", {},
                               logger="telegram.ext.Updater")
        if r < 0.70:
            exchange = rng.choice(EXCHANGES)
            healthy = not (exchange == RATE_LIMITED_EXCHANGE and self.incident() and rng.random() < 0.5)
            return self.record(MARKET, "market.health", "INFO" if healthy else "WARNING",
                               f"Health check exchange:{exchange} {'ok' if healthy else 'degraded'}",
                               {"component": f"exchange:{exchange}", "healthy": healthy},
                               event="health_check")
        if r < 0.85:
            ops = rng.choice(("set", "set", "evict"))
            key = f"ticker:{rng.choice(SYMBOLS)}"
            return self.record(MARKET, "market.cache", "DEBUG", f"Cache {ops} {key}",
                               {"operation": ops, "hit": False, "key": key}, event="cache_operation")
        if r < 0.93:
            exchange, symbol = rng.choice(EXCHANGES), rng.choice(SYMBOLS)
            flags = rng.choice(FLAG_SETS)
            return self.record(MARKET, "market.quality", "WARNING",
                               f"Data quality issue on {exchange} {symbol}: {', '.join(flags)}",
                               {"exchange": exchange, "symbol": symbol, "flags": list(flags)},
                               event="data_quality_issue")
        if r < 0.97:
            user = rng.choice(self.users)
            return self.record(BOT, "bot.auth", "WARNING", f"Unauthorized access attempt by {user}",
                               {"kind": "unauthorized_user", "severity": "medium"},
                               event="security_event", user=user)
        if r < 0.995:
            self.update_id += 1
            return self.record(BOT, "bot.handlers", "ERROR",
                               f"Unhandled error while processing update {self.update_id}: KeyError 'chat'",
                               {}, error=_error("handler"), exception=HANDLER_EXCEPTION)
        size = 20
        return self.record(MARKET, "market.db", "CRITICAL",
                           f"Connection pool exhausted (size={size}, waiting={rng.randint(5, 60)})", {},
                           error=_error("pool"))

    def records(self) -> Iterator[dict[str, object]]:
        rng = self.rng
        while self.emitted < self.n:
            batch = self.journey() if rng.random() < 0.30 else [self.background()]
            for rec in batch:
                if self.emitted >= self.n:
                    return
                self.emitted += 1
                if rec["service"] in self.services:
                    yield rec


def generate_records(n: int, seed: int = 0, start: datetime = DEFAULT_START,
                     services: Iterable[str] = SERVICES) -> Iterator[dict[str, object]]:
    """Yield ``n`` records (fewer when ``services`` excludes some) in timestamp order, deterministically."""
    return _Generator(n, seed, start, services).records()


def rotation_name(path: Path, when_ms: int) -> Path:
    """Return the rotated name ``<service>.log.<YYYYMMDDTHHMMSS.mmmZ>[-N]`` free in ``path``'s directory."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when_ms // 1000)) + f".{when_ms % 1000:03d}Z"
    candidate = path.with_name(f"{path.name}.{stamp}")
    n = 1
    while candidate.exists() or Path(f"{candidate}.gz").exists():
        candidate = path.with_name(f"{path.name}.{stamp}-{n}")
        n += 1
    return candidate


def rotate(path: Path, when_ms: int, compresslevel: int = 6) -> Path:
    """Rename ``path`` once to its rotated name, gzip it to that name + .gz, and return the .gz path."""
    rotated = rotation_name(path, when_ms)
    os.replace(path, rotated)
    target = Path(f"{rotated}.gz")
    with open(rotated, "rb") as src, gzip.open(target, "wb", compresslevel=compresslevel) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    rotated.unlink()
    return target


def _parse_ms(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)


def write_log_files(directory: str | os.PathLike[str], n: int, seed: int = 0, rotate_every: int | None = None,
                    start: datetime = DEFAULT_START, compresslevel: int = 6) -> list[Path]:
    """Write ``n`` records as ``<service>.log`` files, rotating every ``rotate_every`` lines per service.

    Returns the rotated ``.gz`` files (oldest first) followed by the active ``.log`` files.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    handles = {s: open(root / f"{s}.log", "ab") for s in SERVICES}  # noqa: SIM115 - closed below
    counts = dict.fromkeys(SERVICES, 0)
    rotated: list[Path] = []
    dumps = orjson.dumps
    try:
        for rec in generate_records(n, seed=seed, start=start):
            service = str(rec["service"])
            handle = handles[service]
            handle.write(dumps(rec) + b"\n")
            counts[service] += 1
            if rotate_every and counts[service] >= rotate_every:
                handle.close()
                when = _parse_ms(str(rec["timestamp"])) + 1
                rotated.append(rotate(root / f"{service}.log", when, compresslevel))
                handles[service] = open(root / f"{service}.log", "ab")  # noqa: SIM115
                counts[service] = 0
    finally:
        for handle in handles.values():
            handle.close()
    return [*rotated, *(root / f"{s}.log" for s in SERVICES)]
