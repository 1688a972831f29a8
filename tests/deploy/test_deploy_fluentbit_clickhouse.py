"""Fluent Bit's ClickHouse output, replayed into the real engine: what it posts becomes our records in the store."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from crypto_observability.log_analyzer.store.migrations import migrate


def _record(level: str, message: str) -> dict[str, Any]:
    return {"timestamp": "2026-12-03T10:30:00.125Z", "service": "market-data", "module": "main", "level": level,
            "message": message, "context": {"exchange": "okx", "response_time_ms": 12.5}, "request_id": "req-1"}


def test_what_fluent_bit_posts_lands_as_records(fluentbit_config: dict[str, Any], pipeline: Any, dh: Any,
                                                chdb_store: tuple[str, Any]) -> None:
    """Records routed to the http output, posted as json_lines to its query, are stored once each, typed."""
    client = chdb_store[1]
    env = dict(line.split("=", 1) for line in (dh.ROOT / "config/fluent-bit/fluent-bit.env").read_text()
               .splitlines() if line and not line.startswith("#"))
    migrate(client, "flb", ttl_days=3650)
    flb = pipeline(fluentbit_config, env)
    for level, n in itertools.product(("INFO", "ERROR"), range(3)):
        flb.emit("logs.market-data", _record(level, f"call {n}"))
    posted = [record for _, record in flb.received("http")]
    http = next(o for o in fluentbit_config["pipeline"]["outputs"] if o["name"] == "http")
    query = unquote(parse_qs(urlsplit(dh.expand_vars(http["uri"], env)).query)["query"][0])
    assert query == "INSERT INTO logs.logs_ingest FORMAT JSONAsString"  # the default; here into database flb
    client.raw_insert("flb.logs_ingest", fmt="JSONAsString",
                      insert_block=b"\n".join(orjson.dumps(r) for r in posted) + b"\n")
    rows = client.query("SELECT SeverityText, Body, Exchange, ResponseTimeMs, RequestId FROM flb.logs "
                        "ORDER BY SeverityText, Body").result_rows
    assert rows == [(level, f"call {n}", "okx", 12.5, "req-1")
                    for level, n in itertools.product(("ERROR", "INFO"), range(3))]
