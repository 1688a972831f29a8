"""Every analysis read from the store (``--source``) gives the file road's answer on the same records."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from benchmarks.record_generator import generate_records
from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.dialect import CLICKHOUSE
from crypto_observability.log_analyzer.engine import Dataset, load
from crypto_observability.log_analyzer.error_patterns import analyze_errors
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.store.dataset import ROW_SHAPE, StoreDataset, load_store, stored_rows
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import migrate
from crypto_observability.log_analyzer.summary import GAMMA, TABLES, summary_select

from .conftest import RECENT

START = RECENT.replace(second=0)  # whole minute (inside the retention): the filters below cut minutes alike each run

BOUND = GAMMA ** 0.5 - 1  # the histograms' documented bound on a percentile (summary.py), < 1 %
PERCENTILES = {"p50", "p90", "p95", "p99", "p50_ms", "p95_ms", "p99_ms"}
# fields that describe the input itself, not the records: files are not a store, the cache is the file road's,
# the loader rejects junk lines before they reach the store (``clickhouse load`` reports them), and the
# suggested ``search`` command names the input it was read from
INPUT_ONLY = {("input", "files"), ("input", "source"), ("input", "cached_files"), ("input", "malformed"),
              ("errors", "see_examples")}
SPREAD = 5  # the generator's records are seconds apart at most: stretched so filters cut minutes of them
JUNK = [b"not json at all\n", b'{"timestamp": "2025-13-45", "service": "x", "level": "INFO", "message": "m"}\n',
        b'{"service": "market-data", "level": "INFO", "message": "no time"}\n', b"\n"]
_databases = itertools.count()


def _extra_records(start: datetime) -> list[dict[str, Any]]:
    """Records the generator lacks: restarts with a config change, a deploy, cache statistics, a record without
    a module, a failed journey across both services."""
    def at(seconds: float, **fields: Any) -> dict[str, Any]:
        stamp = (start + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"timestamp": stamp, "level": "INFO", "module": "app.main", "context": {}, **fields}
    return [
        at(1, service="market-data", message="config loaded", event="config_loaded",
           context={"component": "market-data", "config_hash": "aaa"}, git_commit="3f9c2ab"),
        at(2, service="telegram-bot", message="config loaded", event="config_loaded",
           context={"component": "telegram-bot", "config_hash": "bbb"}, git_commit="3f9c2ab"),
        at(400, service="market-data", message="config loaded", event="config_loaded",
           context={"component": "market-data", "config_hash": "ccc"}, git_commit="9e1d004"),
        at(401, service="market-data", message="cache stats", event="cache_stats", git_commit="9e1d004",
           context={"hits": 40, "misses": 9}),
        at(402, service="market-data", message="cache stats", event="cache_stats", git_commit="9e1d004",
           context={"hits": 12, "misses": 3}),
        {**at(403, service="telegram-bot", message="no module here", level="WARNING"), "module": None},
        at(404, service="market-data", message="Timeout calling okx", level="WARNING", event="exchange_api_call",
           request_id="failed-journey", context={"exchange": "okx", "success": False, "error_type": "timeout",
                                                 "response_time_ms": 5000.0}),
        at(405, service="telegram-bot", message="/price failed", level="ERROR", event="bot_command",
           request_id="failed-journey", user="u_0000000000000001",
           context={"command": "/price", "success": False, "error_type": "timeout"}),
    ]


def _odd_records(start: datetime) -> list[dict[str, Any]]:
    """Records with values of the wrong type or out of range: NULL (a number: true unless 0) on both roads, never a
    failed insert (schema v8)."""
    def stamp(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [{"timestamp": stamp(406 + n), "service": "market-data", "level": "INFO",
             "module": "app.main", "message": "odd values", "event": "exchange_api_call", "request_id": f"odd-{n}",
             "context": {"exchange": "bybit", "success": value, "hit": value, "healthy": value,
                         "response_time_ms": 12.5},
             "performance": {"memory_usage_mb": 1e16 * (n + 1), "cpu_percent": 1e40}}
            for n, value in enumerate(["maybe", 2, [1], {"x": 1}, "yes", 0.0])]


def _write(directory: Path, n: int = 2000, odd_values: bool = True) -> Path:
    """Write generated records (spread over about four minutes, one per millisecond at most, so line order never
    decides) plus the extra ones (and the odd ones), each service's first half rotated to .gz, with junk lines among
    them."""
    directory.mkdir()
    by_service: dict[str, list[bytes]] = {}
    previous = START
    for record in generate_records(n, seed=5, start=START):
        written = datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00"))
        moment = max(START + (written - START) * SPREAD, previous + timedelta(milliseconds=1))
        previous = moment
        record["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        by_service.setdefault(str(record["service"]), []).append(orjson.dumps(record) + b"\n")
    for record in _extra_records(START) + (_odd_records(START) if odd_values else []):
        if record["module"] is None:
            del record["module"]
        by_service[str(record["service"])].append(orjson.dumps(record) + b"\n")
    for number, (service, lines) in enumerate(sorted(by_service.items())):
        lines[len(lines) // 3:len(lines) // 3] = JUNK[number::2]
        half = len(lines) // 2
        with gzip.open(directory / f"{service}.log.20250101T000000.000Z.gz", "wb") as handle:
            handle.writelines(lines[:half])
        (directory / f"{service}.log").write_bytes(b"".join(lines[half:]))
    return directory


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("reports") / "logs")


@pytest.fixture(scope="module")
def store_url(chdb_store: tuple[str, Any], logs: Path) -> str:
    """The same files loaded into a fresh database of the session's embedded store, through the loader."""
    path, client = chdb_store
    database = f"reports{next(_databases)}"
    migrate(client, database)
    result = Loader(client, database).load([str(logs)])
    assert result.malformed_count == 3 and result.records > 2000
    return f"chdb://{path}?database={database}"


def _differences(files: Any, store: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Yield (path, file value, store value) wherever the two documents differ beyond the documented bounds."""
    if path in INPUT_ONLY or path[-1:] == ("search",):
        return
    if isinstance(files, dict) and isinstance(store, dict) and path[-1:] != ("p95_ms",):
        for key in sorted(set(files) | set(store)):
            yield from _differences(files.get(key), store.get(key), (*path, key))
    elif isinstance(files, list) and isinstance(store, list) and len(files) == len(store):
        for index, (one, other) in enumerate(zip(files, store, strict=True)):
            yield from _differences(one, other, (*path, str(index)))
    elif path[-1:] and path[-1] in PERCENTILES:
        values = files.values() if isinstance(files, dict) else [files]
        others = store.values() if isinstance(store, dict) else [store]
        if [v is None for v in values] != [v is None for v in others] or not all(
                v is None or w == pytest.approx(v, rel=BOUND, abs=0.006) for v, w in zip(values, others, strict=True)):
            yield path, files, store
    elif files != store:
        yield path, files, store


def _pair(logs: Path, store_url: str, filters: Filters) -> tuple[Dataset, Dataset]:
    return load([str(logs)], filters), load_store(store_url, filters)


@pytest.mark.parametrize("options", [
    {}, {"services": ["market-data"]}, {"levels": ["WARNING+"]},
    {"since": (START + timedelta(seconds=40)).isoformat(), "services": ["telegram-bot"]},
    {"since": (START + timedelta(seconds=20.5)).isoformat(), "until": (START + timedelta(seconds=150.5)).isoformat()},
])
def test_the_report_from_the_store_equals_the_file_road(logs: Path, store_url: str, options: dict[str, Any]) -> None:
    """Every table of the JSON report is the same from the store, percentiles within the histograms' bound."""
    files, store = _pair(logs, store_url, Filters.parse(**options))
    now = datetime.now(UTC)
    try:
        expected, actual = build_dashboard(files, now), build_dashboard(store, now)
    finally:
        files.close()
        store.close()
    assert expected["input"]["records"] > 100
    if not options:  # the records reach every table: restarts, a deploy, cache statistics, failed journeys
        assert actual["health"]["live"] and len(actual["changes"]) == 5 and actual["performance"]["cache"]
        assert actual["journeys"]["failures"] and actual["errors"]["patterns"]
    assert list(_differences(expected, actual)) == []


def test_the_errors_command_reads_only_the_problems_from_the_store(logs: Path, store_url: str) -> None:
    """``errors`` (WARNING+ rows and the time range only) finds the same patterns in the store as in the files."""
    files = load([str(logs)], columns=("ts", "service", "module", "level", "message", "user", "fingerprint"),
                 problems_only=True)
    store = load_store(store_url, problems_only=True)
    try:
        assert store.rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'counts'") == [(0,)]
        expected, actual = analyze_errors(files), analyze_errors(store)
    finally:
        files.close()
        store.close()
    assert expected["patterns"] and list(_differences(expected, actual, ("errors",))) == []


def _sorted_rows(ds: Dataset, relation: str) -> list[tuple[Any, ...]]:
    rows = ds.rows(f"SELECT * FROM {relation}")
    columns = [d[0] for d in ds.con.execute(f"SELECT * FROM {relation} LIMIT 0").description]
    if "service_lo" in columns:  # each engine hashes service names its own way: compare what the hashes tell
        lo, hi = columns.index("service_lo"), columns.index("service_hi")
        rows = [(*r[:lo], r[lo] == r[hi], *r[hi + 1:]) for r in rows]
    if "seq" in columns:  # a line's position on files, a hash of the record in the store (store/dataset.py)
        rows = [r[:columns.index("seq")] + r[columns.index("seq") + 1:] for r in rows]
    return sorted(rows, key=repr)


@pytest.mark.parametrize("cut", [False, True])
def test_each_summary_is_the_same_on_both_engines_and_both_store_roads(logs: Path, store_url: str, cut: bool) -> None:
    """Each summary relation: DuckDB over the files, ClickHouse over the stored rows, and the store's materialized
    summaries (where they serve; with the minutes a time filter cuts summarised from the rows) hold the same rows."""
    filters = Filters(START + timedelta(seconds=20.5), START + timedelta(seconds=150.5)) if cut else Filters()
    files, store = _pair(logs, store_url, filters)
    assert isinstance(store, StoreDataset)
    try:
        for table in TABLES:
            from_rows = store.fetch(f"rows_{table}", summary_select(table, stored_rows(store.database, filters),
                                                                     CLICKHOUSE), summary_select(table, ROW_SHAPE))
            expected = _sorted_rows(files, table)
            assert expected or (cut and table in ("starts", "commits")), table
            assert _sorted_rows(store, from_rows) == expected, table
            assert _sorted_rows(store, table) == expected, table
    finally:
        files.close()
        store.close()


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_a_command_reads_the_store_given_by_source(logs: Path, store_url: str) -> None:
    """``exchanges --source URL --format json`` prints the file road's exchange table (percentiles within bound)."""
    from_store, from_files = _run("exchanges", "--source", store_url, "--format", "json"), _run(
        "exchanges", str(logs), "--no-cache", "--format", "json")
    assert (from_store.exit_code, from_files.exit_code) == (0, 0), from_store.output
    assert list(_differences(orjson.loads(from_files.stdout), orjson.loads(from_store.stdout))) == []


@pytest.mark.parametrize(("args", "says"), [
    (["--source", "ftp://host/db"], "expected clickhouse://"),
    (["--source", "clickhouse://default:secret@localhost:8123/logs"], "carries a password"),
    (["--source", "{store}", "{logs}"], "cannot be combined with paths"),
    (["--source", "clickhouse://default@127.0.0.1:1/logs"], "cannot open the store"),  # nothing listens on port 1
    (["--source", "{empty}"], "run log-analyzer clickhouse init"),
])
def test_a_bad_source_is_one_error_line(logs: Path, store_url: str, chdb_store: tuple[str, Any], args: list[str],
                                        says: str) -> None:
    """A bad URL, a password in it, paths beside it, no server, or a store without the schema: one Error line,
    exit 2."""
    empty = f"chdb://{chdb_store[0]}?database=nothing_here"
    result = _run("health", *(a.format(store=store_url, logs=logs, empty=empty) for a in args))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0]
    assert "secret" not in result.output


def test_records_of_one_millisecond_keep_one_order_whatever_the_load_order(tmp_path: Path,
                                                                         chdb_store: tuple[str, Any]) -> None:
    """The store has no line order: restarts of the same millisecond come out in one order however they were loaded."""
    lines = [orjson.dumps({"timestamp": START.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           "service": "market-data", "level": "INFO", "message": "config loaded",
                           "event": "config_loaded", "context": {"component": "market-data", "config_hash": digest}})
             + b"\n" for digest in ("aaa", "bbb", "ccc")]
    path, client = chdb_store
    found = []
    for order in (lines, lines[::-1]):
        database = f"reports{next(_databases)}"
        (tmp_path / database).mkdir()
        (tmp_path / database / "market-data.log").write_bytes(b"".join(order))
        migrate(client, database)
        Loader(client, database).load([str(tmp_path / database)])
        store = load_store(f"chdb://{path}?database={database}")
        try:
            found.append(build_dashboard(store)["changes"])
        finally:
            store.close()
    assert len(found[0]) == 5 and found[0] == found[1]


def test_the_text_and_html_reports_name_the_store(store_url: str, tmp_path: Path) -> None:
    """The report's first line and the HTML page say the records came from the store, not from 0 files."""
    result = _run("report", "--source", store_url, "--html", str(tmp_path / "report.html"))
    assert result.exit_code == 0, result.output
    assert f"the store {store_url}" in result.stdout.splitlines()[0]
    assert f"records from the store {store_url}" in (tmp_path / "report.html").read_text()
