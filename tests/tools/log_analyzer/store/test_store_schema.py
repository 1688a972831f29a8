"""The store's schema: applied once per version, migrated from the previous one, one mapping with the analyzer's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.malformed import classify
from crypto_observability.log_analyzer.schema import FLAT_COLUMNS
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import Migration, applied_versions, available, migrate
from crypto_observability.log_analyzer.summary import DIMS, LATENCY_KEYS

from .conftest import RECENT


def _columns(client: Any, database: str, table: str, kind: str | None = None) -> list[str]:
    query = ("SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}"
             + (" AND default_kind = {k:String}" if kind else "") + " ORDER BY position")
    params = {"db": database, "t": table, **({"k": kind} if kind else {})}
    return [r[0] for r in client.query(query, parameters=params).result_rows]


def test_init_applies_each_version_once(store_client: Any, database: str) -> None:
    """A second init applies nothing and leaves every version recorded once."""
    first = migrate(store_client, database)
    second = migrate(store_client, database)
    assert [m.version for m in first] == [m.version for m in available()]
    assert second == []
    assert applied_versions(store_client, database) == [m.version for m in available()]


def test_retention_is_expressed_on_every_stored_table(store_client: Any, database: str) -> None:
    """The records, rejected lines and summaries all drop data older than the TTL given at init."""
    migrate(store_client, database, ttl_days=7)
    for table in ("logs", "logs_rejected", "counts", "latency", "journey_parts", "incident_cells", "commits"):
        create = store_client.query("SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                                    "AND name = {t:String}", parameters={"db": database, "t": table}).result_rows[0][0]
        assert "TTL" in create and "toIntervalDay(7)" in create, table


def test_common_columns_carry_the_opentelemetry_names(store_client: Any, database: str) -> None:
    """Grafana and HyperDX find the otel_logs columns they read logs by."""
    migrate(store_client, database)
    otel = {"Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
            "ResourceAttributes", "ScopeName", "LogAttributes"}
    assert otel <= set(_columns(store_client, database, "logs"))


def test_the_analyzers_columns_and_summary_keys_are_the_stores(store_client: Any, database: str) -> None:
    """Every flat column the analyses query exists in the store, and the summaries group by the same keys."""
    migrate(store_client, database)
    assert set(_columns(store_client, database, "logs", "ALIAS")) == set(FLAT_COLUMNS)
    assert set(DIMS) | {"minute"} <= set(_columns(store_client, database, "counts"))
    assert set(LATENCY_KEYS) | {"minute", "bin"} <= set(_columns(store_client, database, "latency"))


@pytest.mark.parametrize("loaded_under", [1, available()[-2].version])
def test_migrating_from_an_older_version_keeps_and_summarises_old_rows(store_client: Any, database: str,
                                                                       tmp_path: Path, loaded_under: int) -> None:
    """Rows loaded under v1 or the previous version keep their values under the newest, summarised once."""
    write_log_files(tmp_path, 800, seed=11, start=RECENT)
    migrate(store_client, database, up_to=loaded_under)
    Loader(store_client, database).load([str(tmp_path)])
    newer = [m.version for m in available() if m.version > loaded_under]
    assert [m.version for m in migrate(store_client, database)] == newer
    q = store_client.query
    assert q(f"SELECT count() FROM {database}.logs").result_rows == [(800,)]
    assert q(f"SELECT sum(n) FROM {database}.counts").result_rows == [(800,)]
    by_level = q(f"SELECT level, count() FROM {database}.logs GROUP BY level ORDER BY level").result_rows
    assert q(f"SELECT level, sum(n) FROM {database}.counts GROUP BY level ORDER BY level").result_rows == by_level
    timed = q(f"SELECT service, count(), min(rt), max(rt) FROM {database}.logs WHERE rt IS NOT NULL "
              "GROUP BY service ORDER BY service").result_rows
    assert timed and q(f"SELECT service, sum(n), min(lo), max(hi) FROM {database}.latency "
                       "GROUP BY service ORDER BY service").result_rows == timed


def test_summaries_are_fed_on_insert_and_equal_the_rows(store_client: Any, database: str, tmp_path: Path) -> None:
    """After a load, per-minute counts and latency buckets give the same totals as the rows they summarise."""
    migrate(store_client, database)
    write_log_files(tmp_path, 1500, seed=12, start=RECENT)
    Loader(store_client, database).load([str(tmp_path)])
    q = store_client.query
    rows = q(f"SELECT service, event, count() FROM {database}.logs GROUP BY ALL ORDER BY ALL").result_rows
    assert q(f"SELECT service, event, sum(n) FROM {database}.counts GROUP BY ALL ORDER BY ALL").result_rows == rows
    timed = q(f"SELECT service, count(), min(rt), max(rt) FROM {database}.logs WHERE rt IS NOT NULL "
              "GROUP BY service ORDER BY service").result_rows
    assert q(f"SELECT service, sum(n), min(lo), max(hi) FROM {database}.latency "
             "GROUP BY service ORDER BY service").result_rows == timed


JUNK = [b"not json", b"[1, 2]", b'{"level": "INFO"}', b'"a string"', b"\xff\xfe binary",
        b'{"timestamp": "yesterday", "service": "s", "level": "INFO", "message": "m"}',
        b'{"timestamp": "2026-12-01T10:00:00.000Z", "service": "s", "level": "LOUD", "message": "m"}',
        b'{"timestamp": "2026-12-01T10:00:00.000Z", "service": "s", "level": "INFO", "message": 7}',
        b'{"timestamp": "2026-12-01T10:00:00.000Z", "service": "s", "level": "INFO", "message": "kept"}']


def test_lines_sent_straight_to_the_store_are_checked_as_the_loader_checks_them(store_client: Any,
                                                                                database: str) -> None:
    """Fluent Bit's road (raw lines into logs_ingest) keeps exactly the lines the file reader calls records."""
    migrate(store_client, database)
    store_client.raw_insert(f"{database}.logs_ingest", fmt="JSONAsString", insert_block=b"\n".join(JUNK) + b"\n",
                            settings={"input_format_allow_errors_ratio": 1})
    kept = [r[0] for r in store_client.query(f"SELECT Body FROM {database}.logs").result_rows]
    reasons = Counter(r[0] for r in store_client.query(f"SELECT Reason FROM {database}.logs_rejected").result_rows)
    readable = [line for line in JUNK if classify(line) is None]
    objects = [line for line in JUNK if line.startswith(b"{")]  # anything else the input format itself skips
    assert kept == [orjson.loads(line)["message"] for line in readable]
    assert reasons == Counter({"no RFC 3339 timestamp": 2, "no level": 1, "no message": 1})
    assert sum(reasons.values()) == len(objects) - len(readable)


@pytest.mark.parametrize("bad", [0, -3])
def test_a_retention_below_one_day_is_refused(store_client: Any, database: str, bad: int) -> None:
    """ttl_days must be a whole number of days, at least one; the error says so."""
    with pytest.raises(ValueError, match=f"ttl_days={bad} is not valid"):
        migrate(store_client, database, ttl_days=bad)


def test_a_summary_directive_in_a_comment_is_left_as_a_comment() -> None:
    """Only statements are rendered: a comment that mentions {summary:TABLE} neither fails nor becomes SQL."""
    migration = Migration(99, "example", "-- a view's SELECT is {summary:TABLE}\n"
                                         "CREATE VIEW {db}.v AS {summary:commits};\n")
    [statement] = migration.statements("logs", 30)
    assert statement.startswith("CREATE VIEW logs.v AS SELECT service, git_commit") and "TABLE" not in statement
