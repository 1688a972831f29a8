"""The record: both public roads and third-party libraries give exactly the seed's shape."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import decimal
import logging
import re

import numpy as np
import orjson

from crypto_observability.shared.context import bound_context
from crypto_observability.shared.logging_config import setup_service_logging
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs
from crypto_observability.shared.testing import validate_record as assert_valid_record

SEED_CONTEXT = {"symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 1234, "total_oi_usd": 1500000000}
WITH_SAMPLER = LogSettings(monitoring=True, environment="development", git_commit="c182b71f")


def test_the_seed_example_through_both_roads() -> None:
    """setup_service_logging and create_structured_logger give the seed's record, key for key."""
    with capture_logs("INFO", WITH_SAMPLER) as logs:
        logger = setup_service_logging("market-data", "unified_oi_aggregator")
        logger.info("OI aggregation completed", extra={"context": SEED_CONTEXT})
        slog = create_structured_logger("market-data", "unified_oi_aggregator")
        slog.info("OI aggregation completed", **SEED_CONTEXT)
    first, second = logs.records
    for record in (first, second):
        assert_valid_record(record)
        assert list(record) == ["timestamp", "service", "module", "level", "message", "context",
                                "docker_container", "git_commit", "environment", "performance"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
        assert (record["service"], record["module"], record["level"]) == ("market-data", "unified_oi_aggregator",
                                                                          "INFO")
        assert record["context"] == SEED_CONTEXT
        assert (record["git_commit"], record["environment"]) == ("c182b71f", "development")
        assert set(record["performance"]) == {"memory_usage_mb", "cpu_percent"}
        assert record["performance"]["memory_usage_mb"] > 1


def test_setup_is_idempotent() -> None:
    """Several modules and repeated setups never duplicate handlers or lines."""
    with capture_logs("INFO") as logs:
        for _ in range(3):
            a = setup_service_logging("market-data", "a")
            b = setup_service_logging("market-data", "b")
        a.info("one")
        b.info("two")
        logging.getLogger("aiohttp.client").info("three")
        assert sum(type(h).__name__ == "ServiceLogHandler" for h in logging.getLogger().handlers) == 1
    assert [r["message"] for r in logs.records] == ["one", "two", "three"]


def test_third_party_records_become_our_record() -> None:
    """uvicorn, httpx, telegram, ccxt, aiohttp and asyncio records carry the service and their logger."""
    names = ["uvicorn.error", "httpx", "telegram.ext.Application", "ccxt.base.exchange", "aiohttp.access", "asyncio"]
    with capture_logs("DEBUG") as logs:
        setup_service_logging("telegram-bot", "main")
        for name in names:
            logging.getLogger(name).warning("%s says %d", name, 7)
    for name, record in zip(names, logs.records, strict=True):
        assert_valid_record(record)
        assert (record["service"], record["logger"], record["message"]) == ("telegram-bot", name, f"{name} says 7")


def test_optional_keys_only_when_they_have_a_value() -> None:
    """request_id, user, event, error and exception appear only when set; users are masked."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("telegram-bot", "handlers")
        slog.info("plain")
        with bound_context(request_id="r-1", user=123456789, chat="private"):
            slog.log(20, "typed", {"command": "/price"}, event="bot_command")
    plain, typed = logs.records
    assert "request_id" not in plain and "user" not in plain and "event" not in plain
    assert_valid_record(typed)
    assert typed["event"] == "bot_command" and typed["request_id"] == "r-1"
    assert typed["context"] == {"chat": "private", "command": "/price"}
    assert re.fullmatch(r"u_[0-9a-f]{16}", typed["user"]) and "123456789" not in orjson.dumps(typed).decode()


def test_exceptions_are_attached_and_classified() -> None:
    """exc_info through either road gives the error block and a redacted exception block."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "oi")
        logger = setup_service_logging("market-data", "oi")
        try:
            raise TimeoutError("okx did not answer in 10000 ms")
        except TimeoutError:
            slog.exception("fetch failed", exchange="okx")
            logger.error("fetch failed", exc_info=True)
        slog.error("explicit", exc_info=ValueError("bad symbol"))
    first, second, third = logs.records
    for record in (first, second, third):
        assert_valid_record(record)
    assert first["error"]["category"] == "timeout" and first["exception"]["type"] == "TimeoutError"
    assert first["error"]["fingerprint"] == second["error"]["fingerprint"]
    assert "okx did not answer" in first["exception"]["stacktrace"]
    assert third["error"]["category"] == "validation"


class _Exploding:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


@dataclasses.dataclass
class _Point:
    x: int


def test_unserialisable_values_render_safely() -> None:
    """datetime, Decimal, bytes, sets, dataclasses, numpy scalars, bad reprs and cycles never raise."""
    cyclic: dict[str, object] = {"name": "loop"}
    cyclic["self"] = cyclic
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "odd")
        slog.info("odd values", when=dt.datetime(2025, 1, 15, 10, 30, tzinfo=dt.UTC), price=decimal.Decimal("1.10"),
                  raw=b"\xff\x00bytes", tags={"a"}, point=_Point(3), n=np.int64(7), f=np.float32(1.5),
                  bad=_Exploding(), cyclic=cyclic)
        slog.info("after")
    odd, after = logs.records
    ctx = odd["context"]
    assert ctx["when"].startswith("2025-01-15T10:30") and ctx["price"] == "1.10" and ctx["tags"] == ["a"]
    assert ctx["point"] == {"x": 3} and ctx["n"] == 7 and ctx["f"] == 1.5
    assert "unrepresentable" in ctx["bad"] or "redaction failed" in ctx["bad"]
    assert after["message"] == "after"


def test_format_markers_without_args_are_logged_as_is() -> None:
    """A message with {} or %s and no arguments is written verbatim, never an error."""
    with capture_logs("INFO") as logs:
        setup_service_logging("market-data", "m").info("100%s done {} {x}")
        create_structured_logger("market-data", "m").info("50% {symbol}")
    assert [r["message"] for r in logs.records] == ["100%s done {} {x}", "50% {symbol}"]


def test_oversized_fields_are_truncated_with_a_marker() -> None:
    """A huge string value is cut, and says so, instead of bloating every line."""
    with capture_logs("INFO") as logs:
        create_structured_logger("market-data", "m").info("big", body="x" * 100_000)
    body = logs.records[0]["context"]["body"]
    assert len(body) < 10_000 and "truncated" in body


def test_a_dropped_debug_call_writes_nothing() -> None:
    """Below the level nothing is queued."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "m")
        slog.debug("hidden", a=1)
        assert not slog.is_enabled_for(10)
    assert logs.records == []


async def test_asyncio_records_keep_the_task_context() -> None:
    """Records logged in concurrent tasks carry their own request id."""
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("market-data", "m")

        async def request(rid: str) -> None:
            with bound_context(request_id=rid):
                await asyncio.sleep(0)
                slog.info("handled")

        await asyncio.gather(*(request(f"r{i}") for i in range(5)))
    assert sorted(r["request_id"] for r in logs.records) == [f"r{i}" for i in range(5)]


def test_extra_attributes_join_the_context() -> None:
    """extra={...} fields other than context land in context, next to context's own fields."""
    with capture_logs("INFO") as logs:
        logger = setup_service_logging("market-data", "m")
        logger.info("with extras", extra={"symbol": "BTC-USDT", "context": {"exchanges_count": 6}})
        logger.info("only extras", extra={"exchange": "okx"})
        logger.info("no extras")
    first, second, third = logs.records
    assert first["context"] == {"exchanges_count": 6, "symbol": "BTC-USDT"}
    assert second["context"] == {"exchange": "okx"} and third["context"] == {}
