"""``log-analyzer search``: every filter, the merge across services and rotated files, output forms, safety."""

from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.search_cli import split_terms, use_colour
from crypto_observability.log_analyzer.search_files import SearchOptions, SearchStats, read_records, search
from crypto_observability.log_analyzer.search_output import HitWriter, clean_text
from crypto_observability.log_analyzer.search_query import FieldTerm, SearchQuery, user_hashes

SALT = "search-test-salt-not-a-secret"
SECRET = "sk-live-abcdefgh12345678"
RAW_USERS = (424242, 515151, 616161)


@dataclass(frozen=True)
class ServiceLogs:
    """Rotated logs the real library wrote for two services, and every record in them."""

    root: Path
    records: list[dict[str, Any]]


def _all_records(root: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(root.iterdir()):
        if ".log" in path.name and not path.name.startswith("."):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            out += [orjson.loads(line) for line in data.splitlines() if line.strip()]
    return out


@pytest.fixture(scope="module")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> ServiceLogs:
    """Journeys logged through the library for telegram-bot and market-data, rotated every 4 KB and gzipped."""
    from crypto_observability.shared.context import bound_context
    from crypto_observability.shared.logging_config import ensure_pipeline, shutdown_logging
    from crypto_observability.shared.settings import LogSettings
    from crypto_observability.shared.structured_logger import create_structured_logger

    root = tmp_path_factory.mktemp("service-logs")
    settings = LogSettings.from_env({"LOG_DIR": str(root), "LOG_MAX_BYTES": "4KB", "LOG_CONSOLE": "false",
                                     "LOG_USER_SALT": SALT, "LOG_LEVEL": "DEBUG", "MONITORING_ENABLED": "false",
                                     "LOG_BACKUP_COUNT": "100"})
    pipeline = ensure_pipeline(settings)
    bot = create_structured_logger("telegram-bot", "bot.handlers")
    market = create_structured_logger("market-data", "market.exchange")
    for i in range(40):
        with bound_context(request_id=f"req-{i:03d}", user=RAW_USERS[i % 3]):
            bot.info(f"Command /price received ({i})", command="/price")
            exchange = ("okx", "bybit")[i % 2]
            market.info(f"{exchange} fetch_ticker BTC/USDT ok", exchange=exchange, method="fetch_ticker",
                        symbol="BTC/USDT", success=True, response_time_ms=100.0 + 50 * i)
            if i % 10 == 3:
                market.error("Rate limit exceeded on okx\x1b[2J\rfake prompt", category="rate_limit", exchange="okx",
                             api_key=SECRET)
            bot.info("Command /price completed", command="/price", success=i % 10 != 3,
                     response_time_ms=200.0 + 50 * i)
        pipeline.flush()
    shutdown_logging()
    assert len(list(root.glob("*.gz"))) >= 4, "the library should have rotated and gzipped"
    return ServiceLogs(root, _all_records(root))


def run(root: Path, query: SearchQuery, **options: Any) -> list[dict[str, Any]]:
    """Return the records a search yields, in order."""
    return list(read_records(search([str(root)], query, SearchOptions(**options))))


def q(**kwargs: Any) -> SearchQuery:
    """Build a query from command-line values (no window)."""
    return SearchQuery.parse(Filters(), environ={"LOG_USER_SALT": SALT}, **kwargs)


def test_every_record_comes_once_oldest_first_merged_across_services(service_logs: ServiceLogs) -> None:
    """No filter: every record of both services, active and rotated, once each, in time order."""
    found = run(service_logs.root, q())
    assert sorted(map(orjson.dumps, found)) == sorted(map(orjson.dumps, service_logs.records))
    assert [r["timestamp"] for r in found] == sorted(r["timestamp"] for r in found)
    assert {r["service"] for r in found} == {"telegram-bot", "market-data"}


def test_each_hit_names_its_file_and_line(service_logs: ServiceLogs) -> None:
    """A hit's path and line number point at the very line it came from, with several ids sought at once."""
    hits = list(search([str(service_logs.root)], q(request_ids=["req-017", "req-016", "req-033"]), SearchOptions()))
    assert len(hits) == 10  # three journeys, one with an error
    for hit in hits:
        path = Path(hit.path)
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert data.splitlines()[hit.line - 1] == hit.raw


def test_reverse_and_limit(service_logs: ServiceLogs) -> None:
    """--reverse gives newest first; --limit stops after that many matches."""
    forward = run(service_logs.root, q())
    newest = run(service_logs.root, q(), reverse=True, limit=5)
    assert [r["timestamp"] for r in newest] == sorted((r["timestamp"] for r in forward), reverse=True)[:5]
    assert len(run(service_logs.root, q(), limit=3)) == 3


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"request_ids": ["req-013"]}, lambda r: r.get("request_id") == "req-013"),
    ({"words": ["context.exchange=okx"]}, lambda r: r["context"].get("exchange") == "okx"),
    ({"words": ["context.response_time_ms>1000"]}, lambda r: r["context"].get("response_time_ms", 0) > 1000),
    ({"words": ["error.category=rate_limit"]}, lambda r: (r.get("error") or {}).get("category") == "rate_limit"),
    ({"words": ["exists:error"]}, lambda r: "error" in r),
    ({"words": ["context.success=false"]}, lambda r: r["context"].get("success") is False),
    ({"words": ["RATE LIMIT"]}, lambda r: "rate limit" in r["message"].lower()),
    ({"regexes": [r"received \(1\d\)"]}, lambda r: re.search(r"received \(1\d\)", r["message"])),
    ({"words": ["message~^okx"]}, lambda r: r["message"].startswith("okx")),
], ids=["request-id", "context-eq", "context-gt", "error-category", "exists", "bool", "text", "regex", "key-regex"])
def test_each_filter_keeps_exactly_the_records_it_names(service_logs: ServiceLogs, kwargs: dict[str, Any],
                                                        expected: Any) -> None:
    """Each filter (and predicate form) keeps exactly the records that satisfy it, and some do."""
    want = [r for r in service_logs.records if expected(r)]
    got = run(service_logs.root, q(**kwargs))
    assert want and sorted(map(orjson.dumps, got)) == sorted(map(orjson.dumps, want))


def test_service_level_and_user_filters(service_logs: ServiceLogs) -> None:
    """--service, --level and --user (a raw Telegram id hashed with LOG_USER_SALT, or the hash) select right."""
    from crypto_observability.shared.redaction import Redactor

    query = SearchQuery.parse(Filters.parse(services=["market-data"], levels=["ERROR+"]))
    assert {(r["service"], r["level"]) for r in run(service_logs.root, query)} == {("market-data", "ERROR")}
    user = Redactor(user_salt=SALT).mask_user(RAW_USERS[1])
    by_raw = run(service_logs.root, q(users=[str(RAW_USERS[1])]))
    assert by_raw == run(service_logs.root, q(users=[user]))
    assert by_raw and {r["user"] for r in by_raw} == {user}
    assert sorted(orjson.dumps(r) for r in service_logs.records if r.get("user") == user) == sorted(
        map(orjson.dumps, by_raw))


def test_a_raw_user_without_the_salt_is_refused_with_the_variable_named() -> None:
    """A raw id cannot be hashed without LOG_USER_SALT; the error says so instead of matching nothing."""
    with pytest.raises(OptionError, match="LOG_USER_SALT"):
        user_hashes(["424242"], environ={})
    assert user_hashes(["u_0123456789abcdef"], environ={}) == ("u_0123456789abcdef",)


def test_predicates_parse_or_are_free_text() -> None:
    """KEY op VALUE on a record key is a predicate; other words are free text; a bad number is refused."""
    assert FieldTerm.parse("context.response_time_ms>=1000") == FieldTerm("context.response_time_ms", ">=", "1000")
    assert FieldTerm.parse("missing:user") == FieldTerm("user", "missing")
    assert FieldTerm.parse("offset=123") is None  # not a key of the record: free text
    with pytest.raises(OptionError, match="needs a number"):
        FieldTerm.parse("context.response_time_ms>fast")


def test_context_lines_surround_each_match_like_grep(service_logs: ServiceLogs) -> None:
    """-C 1 adds the neighbouring line of the same file before and after each match, flagged as context."""
    hits = list(search([str(service_logs.root)], q(request_ids=["req-013"]),
                       SearchOptions(context=1)))
    matches = [h for h in hits if h.match]
    assert len(matches) == 4 and len(hits) > len(matches)
    for hit in (h for h in hits if not h.match):
        assert any(m.path == hit.path and abs(m.line - hit.line) == 1 for m in matches)


def test_json_output_is_the_records_own_lines(service_logs: ServiceLogs) -> None:
    """--format json prints each matching line exactly as the file holds it: a drop-in source for jq."""
    result = CliRunner().invoke(main, ["search", str(service_logs.root), "--request-id", "req-003",
                                       "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    raw = {orjson.dumps(r).decode() for r in service_logs.records if r.get("request_id") == "req-003"}
    assert len(lines) == len(raw) == 4 and {orjson.dumps(json.loads(line)).decode() for line in lines} == raw


def test_fields_table_and_exit_code_when_nothing_matches(service_logs: ServiceLogs) -> None:
    """--fields prints a header and one row per match; no match exits 1 like grep."""
    result = CliRunner().invoke(main, ["search", str(service_logs.root), "--request-id", "req-001", "--fields",
                                       "service,context.exchange,message", "--no-cache", "--service", "market-data"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["service", "context.exchange", "message"]
    assert [row.split()[:2] for row in rows] == [["market-data", "bybit"]]
    missing = CliRunner().invoke(main, ["search", str(service_logs.root), "--request-id", "nope", "--no-cache"])
    assert missing.exit_code == 1 and missing.stdout == ""


def test_terminal_text_strips_control_characters_and_honours_no_color(service_logs: ServiceLogs) -> None:
    """A logged escape sequence or carriage return is shown escaped, never sent; NO_COLOR turns colour off."""
    hits = list(search([str(service_logs.root)], q(words=["exists:error"]), SearchOptions(limit=1)))
    for colour in (True, False):
        out = io.StringIO()
        HitWriter(out, colour=colour).write(hits[0])
        text = out.getvalue()
        assert "\\x1b[2J\\rfake prompt" in text and "\r" not in text
        assert ("\x1b[" in text) is colour  # only our own colours
        assert "\x1b[2J" not in text
    assert clean_text("a\u202eb\x07") == "a\\u202eb\\x07"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Tty(), {}) and not use_colour(Tty(), {"NO_COLOR": "1"}) and not use_colour(io.StringIO(), {})


def test_search_shows_only_redacted_values(service_logs: ServiceLogs) -> None:
    """What search prints is what the logs hold: a secret given to the logger is *** and cannot be searched for."""
    result = CliRunner().invoke(main, ["search", str(service_logs.root), "--no-cache", "--format", "json"])
    assert SECRET not in result.stdout and str(RAW_USERS[0]) not in result.stdout and '"api_key":"***"' in result.stdout
    assert run(service_logs.root, q(words=[SECRET])) == []


def test_malformed_lines_are_listed_with_file_and_line_only_when_asked(tmp_path: Path) -> None:
    """--show-malformed names the file and line of a line that is not a record; otherwise it is counted, skipped."""
    good = orjson.dumps({"timestamp": "2025-01-15T10:00:00.000Z", "service": "s", "module": "m", "level": "INFO",
                         "message": "hello req-9", "context": {}, "request_id": "req-9"}).decode()
    (tmp_path / "s.log").write_text(f"{good}\n{{broken req-9\n{good}\n")
    result = CliRunner().invoke(main, ["search", str(tmp_path), "req-9", "--no-cache", "--show-malformed"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 3  # day header + two records
    assert f"{tmp_path / 's.log'}:2: not JSON" in result.stderr
    quiet = CliRunner().invoke(main, ["search", str(tmp_path), "req-9", "--no-cache"])
    assert "1 unreadable line(s) skipped" in quiet.stderr and "s.log:2" not in quiet.stderr


def test_a_truncated_gzip_file_is_reported_and_what_it_holds_before_the_damage_is_found(tmp_path: Path) -> None:
    """A rotated file cut short is named as unreadable; its earlier records still match; no index is written."""
    lines = [orjson.dumps({"timestamp": f"2025-01-15T10:{n // 60:02d}:{n % 60:02d}.000Z", "service": "s", "module": "m",
                           "level": "INFO", "message": f"event {n}", "context": {}}) for n in range(3000)]
    whole = gzip.compress(b"\n".join(lines) + b"\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "s.log.20250115T100100.000Z.gz").write_bytes(whole[: len(whole) // 2])
    stats = SearchStats()
    found = list(search([str(tmp_path / "logs")], q(words=["event"]), SearchOptions(cache_dir=tmp_path / "cache"),
                        stats))
    assert 0 < len(found) < 3000 and [h.raw for h in found] == lines[:len(found)]
    assert [(m.line, m.reason.split(":")[0]) for m in stats.malformed] == [(0, "unreadable")]
    assert stats.indexed == 0 and not list((tmp_path / "cache").glob("search/*.json"))


def test_positional_terms_split_into_paths_and_query(tmp_path: Path) -> None:
    """Existing paths are inputs; every other word is the query; no path means $LOG_DIR."""
    (tmp_path / "a.log").write_text("")
    assert split_terms([str(tmp_path / "a.log"), "context.exchange=okx", "timeout"]) == (
        [str(tmp_path / "a.log")], ["context.exchange=okx", "timeout"])


def _bounds(path: Path) -> tuple[str, str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    stamps = [orjson.loads(line)["timestamp"] for line in data.splitlines()]
    return min(stamps), max(stamps)


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated logs of two services rotated every 250 lines: 11 rotated files each, a few minutes of traffic."""
    from benchmarks.record_generator import write_log_files

    root = tmp_path_factory.mktemp("many-files")
    write_log_files(root, 6000, seed=3, rotate_every=250)
    return root


def test_a_short_window_reads_only_the_files_that_overlap_it(many_files: Path, tmp_path: Path) -> None:
    """With each rotated file indexed, a window reads only the files whose records reach into it, and finds all."""
    files = sorted(many_files.iterdir())
    start = datetime.fromisoformat(_bounds(files[5])[0].replace("Z", "+00:00")).replace(microsecond=0)
    since, until = (moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") for moment in (start, start + timedelta(seconds=10)))
    query = SearchQuery.parse(Filters.parse(since, until))
    options = SearchOptions(cache_dir=tmp_path)
    cold = list(search([str(many_files)], query, options))
    stats = SearchStats()
    warm = list(search([str(many_files)], query, options, stats))
    overlapping = [f for f in files if not (_bounds(f)[1] < since or _bounds(f)[0] >= until)]
    assert warm == cold and warm and all(since <= h.ts < until for h in warm)
    assert stats.files_read == len(overlapping) < len(files) // 3


def test_without_its_index_a_window_uses_the_analyzers_record_cache(many_files: Path, tmp_path: Path) -> None:
    """When another command has cached the rotated files, a first windowed search already skips by their times."""
    from crypto_observability.log_analyzer.engine import load

    load([str(many_files)], cache_dir=tmp_path).close()  # what any report leaves behind
    files = sorted(many_files.iterdir())
    start = datetime.fromisoformat(_bounds(files[5])[0].replace("Z", "+00:00")).replace(microsecond=0)
    since, until = (moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") for moment in (start, start + timedelta(seconds=10)))
    stats = SearchStats()
    found = list(search([str(many_files)], SearchQuery.parse(Filters.parse(since, until)),
                        SearchOptions(cache_dir=tmp_path), stats))
    overlapping = [f for f in files if not (_bounds(f)[1] < since or _bounds(f)[0] >= until)]
    assert found and all(since <= h.ts < until for h in found)
    assert stats.files_read == len(overlapping)


def test_a_request_id_lookup_reads_only_the_files_that_hold_it_once_indexed(log_dir: Path, tmp_path: Path,
                                                                              records: list[dict[str, Any]]) -> None:
    """The first lookup indexes every rotated file; the second skips those without the id and finds the same."""
    rid = str(records[len(records) // 2 + 7].get("request_id") or next(
        r["request_id"] for r in records[len(records) // 2:] if r.get("request_id")))
    query = q(request_ids=[rid])
    first, second = SearchStats(), SearchStats()
    cold = list(search([str(log_dir)], query, SearchOptions(cache_dir=tmp_path), first))
    warm = list(search([str(log_dir)], query, SearchOptions(cache_dir=tmp_path), second))
    assert warm == cold and [orjson.loads(h.raw) for h in warm] == [r for r in records if r.get("request_id") == rid]
    assert first.indexed == len(list(log_dir.glob("*.gz"))) and second.skipped_by_index >= first.indexed - 2
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in (tmp_path / "search").iterdir())
    assert (tmp_path / "search").stat().st_mode & 0o777 == 0o750


def test_worker_processes_find_what_one_process_finds(many_files: Path, tmp_path: Path) -> None:
    """A first read spread over worker processes yields the same hits, in the same order, and the same index."""
    query = q(words=["context.exchange=okx"])
    alone = list(search([str(many_files)], query, SearchOptions(cache_dir=tmp_path / "one", workers=1)))
    stats = SearchStats()
    spread = list(search([str(many_files)], query, SearchOptions(cache_dir=tmp_path / "two", workers=2,
                                                                 parallel_bytes=0), stats))
    assert spread == alone and stats.read_in_workers == stats.indexed == len(list(many_files.glob("*.gz")))
    assert sorted(p.read_bytes() for p in (tmp_path / "one" / "search").glob("*.bin")) == sorted(
        p.read_bytes() for p in (tmp_path / "two" / "search").glob("*.bin"))


def test_docker_json_file_lines_are_unwrapped(tmp_path: Path) -> None:
    """A Docker json-file log is searched inside its "log" strings and printed as the records themselves."""
    record = {"timestamp": "2025-01-15T10:00:00.000Z", "service": "s", "module": "m", "level": "WARNING",
              "message": "slow okx", "context": {"exchange": "okx"}}
    wrapped = {"log": orjson.dumps(record).decode() + "\n", "stream": "stdout", "time": "2025-01-15T10:00:00Z"}
    (tmp_path / "container-json.log").write_bytes(orjson.dumps(wrapped) + b"\n")
    assert run(tmp_path, q(words=["context.exchange=okx", "slow"])) == [record]


