"""The store's connection layer as a user meets it: malformed URLs, passwords never shown, where an embedded store
may be (an absolute directory that exists, or that ``clickhouse init`` creates), in use elsewhere, and private."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.store.connection import StoreAddress, parse_store_url, safe_url

from .conftest import RECENT

ANALYZER = (sys.executable, "-m", "crypto_observability.log_analyzer")
SECRET = "S3cretPW"


def _one_error_line(result: Any) -> str:
    """The run's only output line, which must be an Error line (no traceback, no engine stack trace)."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (ValueError, RuntimeError))
    return lines[0]


@pytest.mark.parametrize("args", [
    ["clickhouse", "status", "--url", "clickhouse://u@host:abc/db"],
    ["clickhouse", "init", "--url", "clickhouse://u@host:0/db"],
    ["errors", "--source", "clickhouse://u@host:99999/db"],
    ["trace", "x", "--source", "https://u@[::1/db"],
    ["search", "x", "--source", "https://u@[::1/db"],
])
def test_a_malformed_url_is_one_error_line_naming_it_exit_2(args: list[str]) -> None:
    """A port that is no number or out of range, an unclosed [IPv6]: the URL named, exit 2, no ValueError."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"store URL '{args[-1]}'" in _one_error_line(result)


@pytest.mark.parametrize("url", [
    f"clickhous://u:{SECRET}@host/db",  # an unknown scheme
    f"chdb://u:{SECRET}@localhost/tmp/x",
    f"clickhouse://u@127.0.0.1:1/db?password={SECRET}",
    f"clickhouse://u@host/db?database=logs&access_token={SECRET}",
    f"clickhouse://u:{SECRET}@host:abc/db",  # malformed too
    f"https://u:{SECRET}@[::1/db",
    f"mysql://h/db?pwd={SECRET}",
])
def test_no_message_shows_a_password_written_in_the_url(url: str) -> None:
    """A password in the user part or in a password-like parameter is masked in the Error line, whatever else is
    wrong with the URL; such a URL is refused (exit 2)."""
    result = CliRunner().invoke(main, ["clickhouse", "status", "--url", url])
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert SECRET not in line and "***" in line


@pytest.mark.parametrize(("url", "safe"), [
    (f"clickhouse://ops:{SECRET}@ch:8123/logs", "clickhouse://ops:***@ch:8123/logs"),
    (f"chdb://u:{SECRET}@localhost/tmp/x?database=a", "chdb://u:***@localhost/tmp/x?database=a"),
    (f"https://u:p@ss:{SECRET}@[::1/db", "https://u:***@[::1/db"),  # an @ inside the password, unclosed [IPv6]
    (f"http://ch/?database=a&password={SECRET}&Secret_Key={SECRET}#x",
     "http://ch/?database=a&password=***&Secret_Key=***#x"),
    ("chdb:///var/lib/log-store?database=logs", "chdb:///var/lib/log-store?database=logs"),  # nothing to mask
    ("clickhouse://ops@ch/logs", "clickhouse://ops@ch/logs"),
])
def test_safe_url_masks_passwords_and_keeps_the_rest(url: str, safe: str) -> None:
    assert safe_url(url) == safe


def test_a_store_address_never_holds_a_password() -> None:
    """``url`` and ``str()`` (what every message prints) are the masked URL."""
    address = StoreAddress(f"clickhouse://u:{SECRET}@h/db?password={SECRET}", "db")
    assert SECRET not in address.url and SECRET not in str(address)


def test_a_relative_chdb_path_is_refused_and_nothing_is_created(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """chdb:relpath would make ./relpath: the store must be named by an absolute path."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OptionError, match="expected chdb:///absolute/path"):
        parse_store_url("chdb:relpath")
    result = CliRunner().invoke(main, ["clickhouse", "init", "--url", "chdb:relpath"])
    assert result.exit_code == 2 and "chdb:///absolute/path" in _one_error_line(result)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["clickhouse", "status", "--url"],
    ["clickhouse", "load", "PATHS", "--url"],
    ["errors", "--source"],
    ["health", "--source"],
    ["search", "level:ERROR", "--source"],
    ["trace", "req-1", "--source"],
])
def test_reading_a_missing_embedded_store_says_to_init_it_and_creates_nothing(tmp_path: Path,
                                                                               args: list[str]) -> None:
    """Only ``clickhouse init`` creates an embedded store; anything else on a missing path: one line, exit 2."""
    missing = tmp_path / "no-store"
    url = f"chdb://{missing}"
    result = CliRunner().invoke(main, [str(tmp_path) if a == "PATHS" else a for a in args] + [url])
    assert result.exit_code == 2
    assert _one_error_line(result) == f"Error: no store at {missing}: run log-analyzer clickhouse init --url {url}"
    assert not missing.exists()


@pytest.mark.parametrize("args", [
    ["clickhouse", "init", "--url"],
    ["clickhouse", "status", "--url"],
    ["clickhouse", "load", "PATHS", "--url"],
    ["errors", "--source"],
])
def test_a_store_path_that_is_a_file_is_one_line(tmp_path: Path, args: list[str]) -> None:
    """Not the engine's message with its C++ stack trace: one line saying the path is not a directory."""
    victim = tmp_path / "f"
    victim.write_text("hi\n")
    result = CliRunner().invoke(main, [str(tmp_path) if a == "PATHS" else a for a in args] + [f"chdb://{victim}"])
    assert result.exit_code == 2
    assert f"the store path {victim} is not a directory" in _one_error_line(result)
    assert victim.read_text() == "hi\n"


def test_a_store_another_process_holds_is_one_line(chdb_store: tuple[str, Any]) -> None:
    """The session's engine holds its store: another process opening it is told so, in one line (no engine noise)."""
    for args in (["clickhouse", "status", "--url"], ["errors", "--source"]):
        done = subprocess.run([*ANALYZER, *args, f"chdb://{chdb_store[0]}"], capture_output=True, text=True,
                              timeout=120, check=False)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.splitlines() == [f"Error: the store at {chdb_store[0]} is in use by another process "
                                            "(chDB opens a store from one process at a time): wait for it to finish"]


def test_an_embedded_store_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """init creates the store 0750; nothing init or load writes under it (on insert too) grants group write or
    anything to others, under a umask of 022. Its own process: chDB opens one path per process."""
    logs = tmp_path / "logs"
    write_log_files(logs, 30, seed=7, start=RECENT)
    store = tmp_path / "var" / "store"
    url = f"chdb://{store}"
    old = os.umask(0o022)
    try:
        for args in (["init", "--url", url], ["load", "--url", url, str(logs)]):
            done = subprocess.run([*ANALYZER, "clickhouse", *args], capture_output=True, text=True, timeout=300,
                                  check=False)
            assert done.returncode == 0, done.stderr
    finally:
        os.umask(old)
    assert "30 records sent" in done.stdout
    assert store.stat().st_mode & 0o777 == 0o750 and (tmp_path / "var").stat().st_mode & 0o777 == 0o750
    loose = [f"{oct(p.lstat().st_mode & 0o777)} {p}" for p in store.rglob("*")
             if not p.is_symlink() and p.lstat().st_mode & 0o027]
    assert loose == []
    assert sum(1 for p in store.rglob("*") if p.is_file()) > 100  # the tree was really written (parts on insert)
