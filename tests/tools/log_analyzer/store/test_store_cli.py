"""``log-analyzer clickhouse``: the store's URL forms, and init / load / status as a user runs them."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.store.connection import parse_store_url
from crypto_observability.log_analyzer.store.migrations import available

from .conftest import RECENT


@pytest.mark.parametrize(("url", "expected"), [
    ("clickhouse://ops@ch.internal:9000/prod", ("ch.internal", 9000, "ops", "prod", False)),
    ("clickhouses://ch.internal", ("ch.internal", 8443, "default", "logs", True)),
    ("http://127.0.0.1:8123/?database=audit", ("127.0.0.1", 8123, "default", "audit", False)),
])
def test_server_urls_name_host_port_user_and_database(url: str, expected: tuple[Any, ...]) -> None:
    """Host, port (8123 / 8443 by default), user and database come from the URL; the database defaults to logs."""
    address = parse_store_url(url)
    assert (address.host, address.port, address.username, address.database, address.secure) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("clickhouse://ops:hunter2@ch:8123/logs", "carries a password: set CLICKHOUSE_PASSWORD"),
    ("mysql://ch/logs", "expected clickhouse://user@host:8123/db"),
    ("chdb://relative/dir", "expected chdb:///absolute/path"),
    ("chdb:relative/dir", "expected chdb:///absolute/path"),
    ("clickhouse://ch/logs;drop", "is not a plain identifier"),
])
def test_bad_urls_are_refused_with_what_to_write(url: str, message: str) -> None:
    """A password in the URL, an unknown scheme, a relative chDB path or an odd database name: a clear error."""
    with pytest.raises(OptionError, match=message) as caught:
        parse_store_url(url)
    assert "hunter2" not in str(caught.value)


def test_init_load_status_from_the_command_line(store_url: str, tmp_path: Path) -> None:
    """init creates the schema, load reports what it sent, status shows the records per service."""
    write_log_files(tmp_path, 500, seed=4, start=RECENT)
    runner = CliRunner()
    init = runner.invoke(main, ["clickhouse", "init", "--url", store_url])
    assert init.exit_code == 0, init.output
    assert "applied " + ", ".join(f"{m.version:03d} {m.name}" for m in available()) in init.output
    again = runner.invoke(main, ["clickhouse", "init", "--url", store_url])
    assert "already at the newest version" in again.output
    load = runner.invoke(main, ["clickhouse", "load", "--url", store_url, str(tmp_path), "--format", "json"])
    assert load.exit_code == 0, load.output
    assert orjson.loads(load.output)["records_sent"] == 500
    status = runner.invoke(main, ["clickhouse", "status", "--url", store_url])
    doc = orjson.loads(status.output)
    assert sum(doc["records"].values()) == 500
    assert doc["schema_version"] == doc["schema_newest"] == available()[-1].version


def test_a_bad_url_exits_2_with_one_line(tmp_path: Path) -> None:
    """The CLI turns a store error into its message and exit code 2, no traceback."""
    result = CliRunner().invoke(main, ["clickhouse", "init", "--url", "ftp://x"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "expected clickhouse://" in result.output


def test_loading_into_a_store_without_schema_says_to_init_it(store_url: str, database: str, tmp_path: Path) -> None:
    """Not the engine's UNKNOWN_DATABASE traceback: one line naming the command that creates the schema, exit 2."""
    write_log_files(tmp_path, 10, seed=4, start=RECENT)
    result = CliRunner().invoke(main, ["clickhouse", "load", "--url", store_url, str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [f"Error: the store {store_url} (database {database}) has no log store "
                                          f"schema, load needs version {available()[-1].version}: "
                                          f"run log-analyzer clickhouse init --url {store_url}"]


def test_an_error_of_the_engine_is_the_first_line_of_its_message(store_client: Any, store_url: str,
                                                                 database: str) -> None:
    """A query the store refuses (here: a schema missing its tables) gives one Error line, exit 2, no traceback."""
    store_client.command(f"CREATE DATABASE {database}")
    store_client.command(f"CREATE TABLE {database}.schema_migrations (version UInt32, name String) "
                         "ENGINE = MergeTree ORDER BY version")
    store_client.command(f"INSERT INTO {database}.schema_migrations VALUES (1, 'logs')")
    result = CliRunner().invoke(main, ["clickhouse", "status", "--url", store_url])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: the store {store_url} (database {database}) has no "
                                                   "log store schema (")
    assert "UNKNOWN_TABLE" in lines[0] and lines[0].endswith(f"run log-analyzer clickhouse init --url {store_url}")


def test_load_keeps_the_exit_code_of_a_bad_input(store_url: str, tmp_path: Path) -> None:
    """No log file matching is a bad input: exit 2, as the analysis commands give (was 1)."""
    runner = CliRunner()
    assert runner.invoke(main, ["clickhouse", "init", "--url", store_url]).exit_code == 0
    result = runner.invoke(main, ["clickhouse", "load", "--url", store_url, str(tmp_path / "nothing-*.log")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"Error: no log files match '{tmp_path / 'nothing-*.log'}': give files, "
                                          "directories or globs of *.log / *.gz"]


def test_load_says_a_cut_file_apart_from_lines_that_are_not_records(store_url: str, tmp_path: Path) -> None:
    """The text summary counts a file it could not read to the end as such, not as a line that was not a record."""
    record = {"timestamp": RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "service": "svc", "level": "INFO",
              "message": "ok"}
    whole = gzip.compress(b"".join(orjson.dumps({**record, "message": f"ok {n}"}) + b"\n" for n in range(2000)))
    (tmp_path / "svc.log.20991231T000000.000Z.gz").write_bytes(whole[: len(whole) // 2])
    runner = CliRunner()
    assert runner.invoke(main, ["clickhouse", "init", "--url", store_url]).exit_code == 0
    result = runner.invoke(main, ["clickhouse", "load", "--url", store_url, str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "; 0 lines were not records; 1 files could not be read to their end" in result.stdout
