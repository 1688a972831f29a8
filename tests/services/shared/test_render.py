"""The renderer: timestamps to the millisecond, and records built in the fixed key order."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from crypto_observability.shared.metadata import Metadata
from crypto_observability.shared.redaction import Redactor
from crypto_observability.shared.render import Entry, RecordBuilder, dumps, format_timestamp


def _reference_timestamp(created: float) -> str:
    seconds = int(created)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{int((created - seconds) * 1000):03d}Z"


@pytest.mark.parametrize("created", [0.0, 1736937000.0, 1736937000.0009, 1736937000.001, 1736937000.5,
                                     1736937000.999, 1736937000.9999999, 1736937001.0, -0.5, 4102444799.9995])
def test_timestamps_match_the_plain_formula(created: float) -> None:
    """Every millisecond, second boundary and odd float renders exactly as the one-line formula does."""
    assert _reference_timestamp(created) == format_timestamp(created)


def test_every_millisecond_of_a_second_renders_as_the_formula_does() -> None:
    """The table of millisecond suffixes agrees with the formula across a whole second."""
    base = 1736937000.0
    for ms in range(1000):
        created = base + ms / 1000 + 0.0002
        assert _reference_timestamp(created) == format_timestamp(created)


def test_a_built_record_keeps_the_key_order_and_renders_byte_for_byte() -> None:
    """Fixed keys in order, optional keys after, and orjson's own bytes for the line."""
    builder = RecordBuilder(Metadata("vm", "c182b71f", "production"), Redactor(user_salt="s"),
                            lambda: {"memory_usage_mb": 1.0, "cpu_percent": 0.0})
    entry = Entry(1736937000.25, 20, "market-data", "oi", "done", {"symbol": "BTC-USDT", "n": 6},
                  {"request_id": "r1", "shard": 2}, None, "oi_done", "httpx")
    for _ in range(2):
        record = builder.build(entry)
        assert list(record) == ["timestamp", "service", "module", "level", "message", "context", "docker_container",
                                "git_commit", "environment", "performance", "event", "logger", "request_id"]
        assert record["context"] == {"shard": 2, "symbol": "BTC-USDT", "n": 6}
        assert orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) == dumps(record)
    assert record["timestamp"] == "2025-01-15T10:30:00.250Z"


def test_a_plain_tuple_with_its_context_beside_it_builds_the_same_record_as_an_entry() -> None:
    """The queue's (tuple, context) form and an Entry holding the context give equal records, errors included."""
    builder = RecordBuilder(Metadata(None, None, "development"), Redactor(user_salt="s"), lambda: None)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        exc_info = (ValueError, exc, exc.__traceback__)
    context = {"symbol": "BTC-USDT", "api_key": "k"}
    for exc, error in ((None, None), (exc_info, ("network", None)), (None, ("network", "high"))):
        entry = Entry(1736937000.5, 40, "s", "m", "msg", context, {"request_id": "r"}, exc, "ev", None, error)
        plain = (1736937000.5, 40, "s", "m", "msg", None, {"request_id": "r"}, exc, "ev", None, error)
        assert builder.build(entry) == builder.build(plain, context)  # type: ignore[arg-type]
