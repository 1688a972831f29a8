"""StructuredLogger's typed events, timed(), classification, and the catalogue in docs/events.md."""

from __future__ import annotations

import asyncio
import inspect
import re
from pathlib import Path
from typing import Any

import ccxt
import pytest

from crypto_observability.shared.structured_logger import StructuredLogger, create_structured_logger
from crypto_observability.shared.testing import capture_logs, validate_record

DOCS = Path(__file__).resolve().parents[3] / "docs" / "events.md"
BASE_METHODS = {"debug", "info", "warning", "log", "bind", "is_enabled_for"}
SAMPLES: dict[str, Any] = {
    "operation": "fetch", "name": "arbitrage_opportunity", "value": 1.5, "unit": "ms", "method": "GET",
    "path": "/price/{symbol}", "status_code": 200, "response_time_ms": 12.5, "kind": "unauthorized_command",
    "severity": "medium", "action": "price", "actor": 123456789, "target": "/price", "outcome": "allowed",
    "key": "price:BTC-USDT", "hit": True, "table": "tickers", "rows": 3, "success": True, "component": "redis",
    "healthy": True, "old": 30, "new": 60, "scope": "exchange", "limit": 10, "retry_after": 2.0,
    "dependency": "market-data", "message": "it failed", "category": "dependency",
}


def catalogue(section: str) -> dict[str, tuple[str, list[str]]]:
    """Parse a section's table: method name -> (event, documented fields)."""
    text = DOCS.read_text()
    body = text.split(f"<!-- {section}:start -->")[1].split(f"<!-- {section}:end -->")[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.match(r"`(\w+)\(", cells[0]) if len(cells) == 4 else None
        if match:
            fields = [f.strip() for f in cells[3].split(",")]
            rows[match.group(1)] = (cells[1].strip("`"), fields)
    return rows


def call(slog: StructuredLogger, method: str) -> None:
    """Call a typed method with sample values for its parameters."""
    fn = getattr(slog, method)
    params = inspect.signature(fn).parameters.values()
    args = [SAMPLES[p.name] for p in params if p.kind is p.POSITIONAL_ONLY]
    kwargs = {p.name: SAMPLES[p.name] for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in SAMPLES}
    result = fn(*args, **kwargs)
    if method == "timed":
        with result:
            pass


def test_every_public_method_is_in_the_catalogue() -> None:
    """A new public method without documentation fails this test."""
    public = {n for n, _ in inspect.getmembers(StructuredLogger, inspect.isfunction) if not n.startswith("_")}
    assert public - BASE_METHODS == set(catalogue("structured-logger"))


@pytest.mark.parametrize("method", sorted(catalogue("structured-logger")))
def test_every_documented_field_is_emitted(method: str) -> None:
    """Each typed method writes its documented event name and every documented field."""
    event, fields = catalogue("structured-logger")[method]
    with capture_logs("DEBUG") as logs:
        slog = create_structured_logger("market-data", "catalogue")
        try:
            raise TimeoutError("needed by exception()")
        except TimeoutError:
            call(slog, method)
    (record,) = logs.records
    validate_record(record)
    if event != "(none)":
        assert record["event"] == event
        for field in fields:
            name = field.strip("()")
            assert name in record["context"], (method, name)
    else:
        assert set(record["error"]) == {"type", "category", "severity", "fingerprint"}


def test_timed_as_block_decorator_and_async() -> None:
    """timed() logs duration and success for a block, a sync function and a coroutine."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "t")

        @slog.timed("double", unit="x")
        def double(x: int) -> int:
            return 2 * x

        @slog.timed("fetch_async")
        async def fetch() -> str:
            await asyncio.sleep(0)
            return "ok"

        with slog.timed("block", symbol="BTC-USDT") as t:
            t.context["rows"] = 3
        assert double(4) == 8 and asyncio.run(fetch()) == "ok"
    records = logs.find(event="timed_operation")
    assert [r["context"]["operation"] for r in records] == ["block", "double", "fetch_async"]
    assert records[0]["context"]["rows"] == 3 and records[1]["context"]["unit"] == "x"
    assert all(r["context"]["success"] is True and r["context"]["response_time_ms"] >= 0 for r in records)


def test_timed_logs_a_failure_classified_and_reraises() -> None:
    """An exception inside timed() is logged at ERROR with its category, then raised unchanged."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "t")
        with pytest.raises(ccxt.RateLimitExceeded), slog.timed("fetch_ticker", exchange="bybit"):
            raise ccxt.RateLimitExceeded("bybit 429 Too Many Requests")
    (record,) = logs.records
    assert record["level"] == "ERROR" and record["context"]["success"] is False
    assert record["error"]["category"] == "rate_limit" and record["exception"]["type"] == "RateLimitExceeded"


def test_error_without_exception_is_classified_by_the_caller() -> None:
    """error() with a category and severity but no exception still gets a fingerprinted error block."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("telegram-bot", "h")
        slog.error("Market data request failed for 42", category="dependency", severity="high")
        slog.error("Market data request failed for 43", category="dependency", severity="high")
        slog.error("plain error")
    first, second, plain = logs.records
    assert first["error"]["category"] == "dependency" and first["error"]["severity"] == "high"
    assert first["error"]["fingerprint"] == second["error"]["fingerprint"]
    assert plain["error"]["category"] == "unclassified"


def test_audit_and_config_change_hide_identities_and_secrets() -> None:
    """The actor is hashed and a secret setting's values never appear."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "admin")
        slog.audit("update", actor=987654321, target="exchanges", outcome="success")
        slog.config_change("api_key", old="OLD-SECRET-VALUE-123", new="NEW-SECRET-VALUE-456", actor=987654321)
        slog.config_change("cache_ttl_s", old=30, new=60)
    audit, secret, plain = logs.records
    text = str(logs.records)
    assert "987654321" not in text and "SECRET-VALUE" not in text
    assert audit["context"]["actor"].startswith("u_") and audit["context"]["actor"] == secret["context"]["actor"]
    assert (plain["context"]["old"], plain["context"]["new"]) == (30, 60)


def service_rows() -> dict[str, list[tuple[str, str]]]:
    """Service-loggers section: class name -> [(method, event)] from its table."""
    text = DOCS.read_text()
    body = text.split("<!-- service-loggers:start -->")[1].split("<!-- service-loggers:end -->")[0]
    tables: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in body.splitlines():
        heading = re.match(r"### (\w+)", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        method = re.match(r"`(\w+)", cells[0]) if len(cells) == 4 else None
        if method and current:
            tables[current].append((method.group(1), cells[1].strip("`")))
    return tables


@pytest.mark.parametrize(("class_path", "name"), [
    ("crypto_observability.shared.exchange_logger", "ExchangeLogger"),
    ("services.market_data.market_logger", "MarketLogger"),
    ("services.telegram_bot.bot_logger", "BotLogger"),
])
def test_service_loggers_are_fully_catalogued(class_path: str, name: str) -> None:
    """Every public method of the service loggers is in the catalogue, and every event it names exists in code."""
    import importlib

    module = importlib.import_module(class_path)
    cls = getattr(module, name)
    public = {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}
    rows = service_rows()[name]
    assert public == {method for method, _ in rows}
    root = DOCS.parents[1]
    sources = "".join(p.read_text() for p in [*root.glob("crypto_observability/shared/*exchange*.py"),
                                               root / "services/market_data/market_logger.py",
                                               root / "services/telegram_bot/bot_logger.py"])
    for _, event in rows:
        if event != "(none)":
            assert f'"{event}"' in sources, event
