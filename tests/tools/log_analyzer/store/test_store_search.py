"""``search`` and ``trace`` with ``--source``: the store gives the file road's answer, in the file road's order."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.search_files import SearchOptions, search
from crypto_observability.log_analyzer.search_query import SearchQuery
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import migrate
from crypto_observability.log_analyzer.store.search_store import StoreSearchStats, prefilter, search_store

from .conftest import RECENT

DATABASE = "search_parity"
TICKET_USER = "u_0123456789abcdef"


def _at(seconds: float) -> str:
    moment: datetime = RECENT + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _record(seconds: float, message: str, level: str = "INFO", **fields: Any) -> dict[str, Any]:
    return {"timestamp": _at(seconds), "service": "market-data", "module": "market.odd", "level": level,
            "message": message, **fields}


# records our library would not write but a store may hold, each testing one claim of the prefilter; written after
# the generator's (which span about a minute) so each service's files stay in time order, as the file road expects
ODD_RECORDS = [
    _record(120, "odd event type", event=5),
    _record(120.1, "listed exchanges", context={"exchange": ["okx", "kraken"], "symbol": None}),
    _record(120.2, 'Überlast: Rate LIMIT on OKX/Spot "quoted"\nline two', context={"success": True}),
    _record(120.3, f"support ticket for {TICKET_USER}", context={"note": "Ticket /Help"}),
    _record(120.4, "numeric request id", request_id=12345),
    _record(121, "tie first"), _record(121, "tie second", "DEBUG"), _record(121, "tie third", "WARNING"),
]
JUNK = [b"not json at all", b'{"foo": 1}', b'{"timestamp": 1700000000, "service": "x", "level": "INFO", '
        b'"message": "epoch"}']


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's records (rotated, gzipped), odd records in an active file, junk lines in the other."""
    root = tmp_path_factory.mktemp("search-store") / "logs"
    write_log_files(root, 3000, seed=11, rotate_every=400, start=RECENT)
    with open(root / "market-data.log", "ab") as handle:
        handle.write(b"".join(orjson.dumps(r) + b"\n" for r in ODD_RECORDS))
    with open(root / "telegram-bot.log", "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in JUNK))
    return root


@pytest.fixture(scope="module")
def store(chdb_store: tuple[str, Any], logs: Path) -> tuple[str, Any]:
    """The same files loaded into a store by ``clickhouse load``'s loader: its URL and a client."""
    path, client = chdb_store
    migrate(client, DATABASE)
    result = Loader(client, DATABASE).load([str(logs)])
    assert result.malformed_count == len(JUNK)
    return f"chdb://{path}?database={DATABASE}", client


@pytest.fixture(scope="module")
def sample(logs: Path) -> dict[str, str]:
    """A request id seen on both services and a user, taken from the files."""
    records = [orjson.loads(h.raw) for h in search([str(logs)], SearchQuery(), SearchOptions())]
    services: dict[str, set[str]] = {}
    for record in records:
        if isinstance(record.get("request_id"), str):
            services.setdefault(record["request_id"], set()).add(record["service"])
    request_id = next(rid for rid, seen in sorted(services.items()) if len(seen) == 2)
    return {"request_id": request_id, "user": next(r["user"] for r in records if r.get("user"))}


def _query(since: float | None = None, until: float | None = None, services: tuple[str, ...] = (),
           levels: tuple[str, ...] = (), **kwargs: Any) -> SearchQuery:
    filters = Filters(RECENT + timedelta(seconds=since) if since is not None else None,
                      RECENT + timedelta(seconds=until) if until is not None else None, services,
                      Filters.parse(levels=levels).levels)
    return SearchQuery.parse(filters, environ={}, **kwargs)


def _both(logs: Path, store: tuple[str, Any], query: SearchQuery, **options: Any) -> tuple[list[bytes], list[bytes]]:
    """Return the records the file road and the store road yield, in their order."""
    files = [h.raw for h in search([str(logs)], query, SearchOptions(**options)) if h.match]
    stored = [h.raw for h in search_store(store[1], DATABASE, query, **options)]
    return files, stored


QUERIES: dict[str, Callable[[dict[str, str]], SearchQuery]] = {
    "everything": lambda s: _query(),
    "request-id": lambda s: _query(request_ids=[s["request_id"]]),
    "user": lambda s: _query(users=[s["user"]]),
    "user-in-a-message": lambda s: _query(users=[TICKET_USER]),
    "event": lambda s: _query(events=["security_event"]),
    "service-and-level": lambda s: _query(services=("market-data",), levels=("WARNING+",)),
    "window": lambda s: _query(since=20, until=40.5),
    "context-eq": lambda s: _query(words=["context.exchange=okx"]),
    "eq-in-a-list": lambda s: _query(words=["context.exchange=kraken"]),
    "context-gt": lambda s: _query(words=["context.response_time_ms>1000"]),
    "context-le": lambda s: _query(words=["context.response_time_ms<=25"]),
    "not-equal": lambda s: _query(words=["context.exchange!=okx", "event=exchange_api_call"]),
    "error-category": lambda s: _query(words=["error.category=rate_limit"]),
    "exists": lambda s: _query(words=["exists:exception"]),
    "exists-null": lambda s: _query(words=["exists:context.symbol"]),
    "missing": lambda s: _query(words=["missing:user"], levels=("WARNING+",)),
    "bool": lambda s: _query(words=["context.success=false"]),
    "bool-capitals": lambda s: _query(words=["context.success=TRUE"]),
    "number-as-written": lambda s: _query(words=["event=5"]),
    "number-spelt-otherwise": lambda s: _query(words=["event=5.0"]),
    "null": lambda s: _query(words=["context.symbol=none"]),
    "numeric-request-id-term": lambda s: _query(words=["request_id=12345"]),
    "typed-terms": lambda s: _query(words=["service=market-data", "level=DEBUG", "message=tie second"]),
    "text": lambda s: _query(words=["RATE LIMIT"]),
    "text-with-slash": lambda s: _query(words=["okx/spot"]),
    "text-non-ascii": lambda s: _query(words=["Überlast"]),
    "text-quoted": lambda s: _query(texts=['"quoted"']),
    "text-across-an-escape": lambda s: _query(words=["line two"]),
    "regex": lambda s: _query(regexes=[r"Data quality issue on (kraken|coinbase) \w+/USDT"]),
    "key-regex": lambda s: _query(words=["message~^Cache (hit|miss)"]),
    "combined": lambda s: _query(words=["context.exchange=okx", "context.response_time_ms>100"], since=10),
}


@pytest.mark.parametrize("name", QUERIES)
def test_each_kind_of_term_finds_the_file_roads_records_in_its_order(logs: Path, store: tuple[str, Any],
                                                                     sample: dict[str, str], name: str) -> None:
    """Every term of the query language: the store yields exactly the file road's records, in the same order."""
    files, stored = _both(logs, store, QUERIES[name](sample))
    assert files, f"{name}: the query should match something"
    assert stored == files


@pytest.mark.parametrize(("options"), [{"reverse": True}, {"limit": 7}, {"reverse": True, "limit": 1500}],
                         ids=["reverse", "limit", "reverse-limit-over-pages"])
def test_reverse_and_limit_as_on_files(logs: Path, store: tuple[str, Any], options: dict[str, Any]) -> None:
    """--reverse and --limit give the file road's records (the limit spanning more than one page of rows)."""
    files, stored = _both(logs, store, _query(), **options)
    assert stored == files and len(files) == options.get("limit", len(files))


def test_records_of_one_millisecond_keep_their_written_order(store: tuple[str, Any]) -> None:
    """Same service, same millisecond, levels INFO, DEBUG, WARNING: in the written order (reversed by --reverse)."""
    def messages(reverse: bool) -> list[str]:
        return [orjson.loads(h.raw)["message"] for h in search_store(store[1], DATABASE, _query(words=["tie"]),
                                                                      reverse=reverse)]

    assert messages(False) == ["tie first", "tie second", "tie third"]
    assert messages(True) == ["tie third", "tie second", "tie first"]


@pytest.mark.parametrize("name", ["request-id", "user", "event", "service-and-level", "window", "context-eq",
                                  "context-gt", "error-category", "exists", "text", "typed-terms"])
def test_the_store_hands_the_matcher_only_the_rows_that_match(store: tuple[str, Any], sample: dict[str, str],
                                                              name: str) -> None:
    """Where the prefilter is exact on these records, ClickHouse returns the matches and nothing else."""
    stats = StoreSearchStats()
    found = list(search_store(store[1], DATABASE, QUERIES[name](sample), stats=stats))
    assert found and stats.rows_fetched == stats.matches == len(found)


def test_a_request_id_lookup_reads_through_its_bloom_filter_index(store: tuple[str, Any]) -> None:
    """trace and --request-id ask ClickHouse with a condition its request-id skip index serves."""
    narrow = prefilter(_query(request_ids=["abc"]))
    plan = store[1].query(f"EXPLAIN indexes = 1 SELECT Record FROM {DATABASE}.logs WHERE {narrow.sql()}",
                          parameters=narrow.parameters).result_rows
    assert "Name: idx_request_id" in [str(row[0]).strip() for row in plan]


_KEYS = {"service": ["market-data", "telegram-bot"], "level": ["INFO", "ERROR", "DEBUG"],
         "event": ["exchange_api_call", "cache_operation", "5"], "context.exchange": ["okx", "bybit", "kraken"],
         "context.success": ["true", "false", "TRUE"], "error.category": ["rate_limit", "application"],
         "context.symbol": ["null", "BTC/USDT", "none"], "module": ["market.cache", "bot.handlers"]}
_NUMBERS = {"context.status_code": ["200", "429", "200.0"], "context.response_time_ms": ["100", "1000", "24.03"]}
_TERMS = st.one_of(
    st.builds(lambda kv, op: f"{kv[0]}{op}{kv[1]}",
              st.sampled_from([(k, v) for k, vs in (_KEYS | _NUMBERS).items() for v in vs]),
              st.sampled_from(["=", "!=", "~"])),
    st.builds(lambda kv, op: f"{kv[0]}{op}{kv[1]}",
              st.sampled_from([(k, v) for k, vs in _NUMBERS.items() for v in vs]), st.sampled_from([">", "<="])),
    st.builds(lambda kind, key: f"{kind}:{key}", st.sampled_from(["exists", "missing"]),
              st.sampled_from(list(_KEYS | _NUMBERS))),
    st.sampled_from(["fetch", "OKX", "rate limit", "Cache", "u_", "429", "ok", "/usdt"]),
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(_TERMS, max_size=3), levels=st.sampled_from([(), ("WARNING+",), ("DEBUG", "INFO")]),
       services=st.sampled_from([(), ("market-data",)]),
       window=st.sampled_from([(None, None), (5, 30), (30.5, None)]))
def test_random_queries_give_the_same_records_on_both_roads(logs: Path, store: tuple[str, Any], words: list[str],
                                                           levels: tuple[str, ...], services: tuple[str, ...],
                                                           window: tuple[float | None, float | None]) -> None:
    """Queries built from the grammar at random: the store and the files yield the same records in the same order."""
    query = _query(window[0], window[1], services, levels, words=words)
    files, stored = _both(logs, store, query)
    assert stored == files


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})


@pytest.mark.parametrize("args", [
    ["--format", "json", "--level", "WARNING+", "--reverse", "--limit", "40"],
    ["--service", "telegram-bot", "context.command=/price", "--limit", "25"],
    ["--fields", "timestamp,service,context.exchange,context.response_time_ms,message", "context.exchange=okx"],
    ["--format", "json", "--fields", "timestamp,error", "exists:error"],
], ids=["json", "text", "fields-table", "json-fields"])
def test_the_command_prints_the_same_with_source(logs: Path, store: tuple[str, Any], args: list[str]) -> None:
    """search --source prints byte for byte what search over the files prints, in every output form."""
    from_files = _run("search", str(logs), *args)
    from_store = _run("search", "--source", store[0], *args)
    assert from_files.exit_code == from_store.exit_code == 0, from_store.output
    assert from_store.stdout == from_files.stdout


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_trace_from_the_store_equals_trace_from_files(logs: Path, store: tuple[str, Any], sample: dict[str, str],
                                                      fmt: str) -> None:
    """trace REQUEST_ID --source gives the timeline trace gives from the files, across both services."""
    from_files = _run("trace", sample["request_id"], str(logs), "--format", fmt)
    from_store = _run("trace", sample["request_id"], "--source", store[0], "--format", fmt)
    assert from_files.exit_code == from_store.exit_code == 0, from_store.output
    assert from_store.stdout == from_files.stdout
    if fmt == "json":
        assert len(orjson.loads(from_store.stdout)["services"]) == 2


def test_slowest_trace_from_the_store_equals_the_files_one(logs: Path, store: tuple[str, Any]) -> None:
    """`trace --slowest --source URL` picks the store's slowest journey (its journeys analysis) and traces it as the
    files do."""
    from_files = _run("trace", "--slowest", str(logs), "--no-cache", "--format", "json")
    from_store = _run("trace", "--slowest", "--source", store[0], "--format", "json")
    assert from_store.exit_code == from_files.exit_code == 0, from_store.output
    assert orjson.loads(from_store.stdout) == orjson.loads(from_files.stdout)
    assert orjson.loads(from_store.stdout)["found"] is True


def test_nothing_found_exits_1_like_grep(store: tuple[str, Any]) -> None:
    """No match in the store: exit 1 and nothing printed, for search and for trace."""
    assert _run("search", "--source", store[0], "--request-id", "no-such-request").exit_code == 1
    traced = _run("trace", "no-such-request", "--source", store[0], "--format", "json")
    assert traced.exit_code == 1 and orjson.loads(traced.stdout)["found"] is False


@pytest.mark.parametrize(("args", "message"), [
    (["search", "{logs}", "okx"], "with --source the records come from the store, not files: drop {logs}"),
    (["trace", "abc", "{logs}"], "with --source the records come from the store, not files: drop {logs}"),
    (["search", "-f"], "--follow reads files as they are written"),
    (["search", "-C", "2", "okx"], "-C shows lines of the same file"),
    (["search", "--show-malformed"], "--show-malformed lists unreadable lines of files"),
], ids=["search-paths", "trace-paths", "follow", "context", "show-malformed"])
def test_file_only_usage_with_source_is_one_error_line(logs: Path, store: tuple[str, Any], args: list[str],
                                                       message: str) -> None:
    """Paths and the file-only options with --source: exit 2 and one line saying what to do instead."""
    result = _run(*[a.format(logs=logs) for a in args], "--source", store[0])
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {message.format(logs=logs)}")


@pytest.mark.parametrize(("url", "message"), [
    ("chdb://{path}?database=search_empty", "has no log store schema; search needs version 4 or later: run "
     "log-analyzer clickhouse init --url chdb://{path}?database=search_empty"),
    ("clickhouse://default@127.0.0.1:9/logs", "cannot open the store clickhouse://default@127.0.0.1:9/logs"),
], ids=["no-schema", "unreachable"])
def test_a_store_without_schema_or_unreachable_is_one_error_line(chdb_store: tuple[str, Any], url: str,
                                                                 message: str) -> None:
    """A store without the schema, or one that cannot be reached: exit 2 and one Error: line, no traceback."""
    url = url.format(path=chdb_store[0])
    for args in (["search", "--source", url, "okx"], ["trace", "abc", "--source", url]):
        result = _run(*args)
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
        assert result.stderr.startswith("Error: ") and message.format(path=chdb_store[0]) in result.stderr


def test_an_unreachable_store_is_one_line_from_a_real_process() -> None:
    """Run as a user runs it (no test harness capturing logs): the driver's own complaint is not printed too."""
    for args in (["search", "okx"], ["trace", "abc"], ["errors"]):
        done = subprocess.run([sys.executable, "-m", "crypto_observability.log_analyzer", *args, "--source",
                               "clickhouse://default@127.0.0.1:9/logs"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("Error: cannot open the store clickhouse://default@127.0.0.1:9/logs")


def test_rows_stored_before_version_4_get_a_fixed_place(store_client: Any, database: str, tmp_path: Path) -> None:
    """A store loaded under version 3 and migrated: each old row gets one fixed InsertSeq and is found as from files."""
    write_log_files(tmp_path / "logs", 300, seed=2, start=RECENT)
    migrate(store_client, database, up_to=3)
    Loader(store_client, database).load([str(tmp_path / "logs")])
    migrate(store_client, database)

    def numbering() -> list[tuple[str, int]]:
        rows = store_client.query(f"SELECT Record, InsertSeq FROM {database}.logs ORDER BY Record").result_rows
        return [(str(record), int(seq)) for record, seq in rows]

    first = numbering()
    assert first == numbering() and len({seq for _, seq in first}) == 300
    files = sorted(h.raw for h in search([str(tmp_path / "logs")], SearchQuery(), SearchOptions()))
    assert sorted(h.raw for h in search_store(store_client, database, SearchQuery())) == files
