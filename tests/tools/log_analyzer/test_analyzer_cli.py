"""The CLI: every subcommand in table and JSON form, export to CSV, errors, and python -m."""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import main

ANALYZER = (sys.executable, "-m", "crypto_observability.log_analyzer")  # the log-analyzer command

SUBCOMMANDS = ["errors", "performance", "journeys", "health", "exchanges", "report"]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    """A click runner."""
    return CliRunner()


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_json_is_one_document(runner: CliRunner, log_dir: Path, tmp_path: Path, command: str) -> None:
    """``<command> --format json`` prints one parseable JSON document and exits 0."""
    result = runner.invoke(main, [command, str(log_dir), "--format", "json", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), dict)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_table_output(runner: CliRunner, log_dir: Path, tmp_path: Path, command: str) -> None:
    """``<command>`` renders rich tables on stdout and exits 0."""
    result = runner.invoke(main, [command, str(log_dir), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_report_json_has_the_documented_sections(runner: CliRunner, log_dir: Path, tmp_path: Path) -> None:
    """The dashboard document has the sections docs/log_analyzer.md lists."""
    result = runner.invoke(main, ["report", str(log_dir), "--format", "json", "--cache-dir", str(tmp_path)])
    doc = json.loads(result.stdout)
    assert list(doc) == ["schema_version", "generated_at", "input", "health", "errors", "performance",
                         "journeys", "exchanges", "timeseries", "changes"]


def test_export_writes_one_csv_per_table(runner: CliRunner, log_dir: Path, tmp_path: Path) -> None:
    """``export --out DIR`` writes CSV tables with headers plus dashboard.json."""
    out = tmp_path / "out"
    result = runner.invoke(main, ["export", str(log_dir), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    with (out / "exchanges.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"rank", "exchange", "success_rate"} <= set(rows[0]) and len(rows) == 4
    assert (out / "performance_latency_by_service.csv").exists() and (out / "dashboard.json").exists()


def test_malformed_lines_are_reported_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    """Bad lines do not fail the command; stderr says how many and where."""
    path = tmp_path / "svc.log"
    path.write_bytes(b'{"broken": \nnot json\n'
                     b'{"timestamp": "2026-01-01T00:00:00Z", "service": "s", "level": "INFO", "message": "ok"}\n')
    result = runner.invoke(main, ["health", str(path), "--no-cache"])
    assert result.exit_code == 0
    assert "2 malformed line(s)" in result.stderr and "svc.log" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday"], "--since 'yesterday'"), (["--level", "LOUD"], "--level 'LOUD'"),
    (["--since", "9999999w"], "--since '9999999w' is too long (at most 100 years)"),
    (["--until", "99999999999999999999w"], "--until '99999999999999999999w' is too long (at most 100 years)")])
def test_bad_options_exit_2_naming_the_value(runner: CliRunner, log_dir: Path, args: list[str],
                                             message: str) -> None:
    """A bad filter value exits 2 with a message naming the option, the value and what is allowed."""
    result = runner.invoke(main, ["errors", str(log_dir), "--no-cache", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_missing_input_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    """A path that matches nothing exits 2 and names it."""
    result = runner.invoke(main, ["health", str(tmp_path / "none*.log")])
    assert result.exit_code == 2 and "none*.log" in result.stderr


def test_python_dash_m_runs_the_command(log_dir: Path) -> None:
    """``python -m crypto_observability.log_analyzer`` is the same command."""
    done = subprocess.run([*ANALYZER, "health", str(log_dir), "--no-cache",
                           "--format", "json"], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "score" in json.loads(done.stdout)


def test_each_error_pattern_names_the_search_that_lists_its_lines(runner: CliRunner, log_dir: Path,
                                                                   tmp_path: Path) -> None:
    """The printed search command, run as it is, lists at least the pattern's records (the same message shape)."""
    doc = json.loads(runner.invoke(main, ["errors", str(log_dir), "--format", "json", "--no-cache"]).output)
    for pattern in doc["patterns"][:3]:
        words = shlex.split(pattern["search"])
        assert words[:2] == ["log-analyzer", "search"]
        found = runner.invoke(main, [*words[1:], "--format", "json", "--cache-dir", str(tmp_path)])
        messages = [json.loads(line)["message"] for line in found.output.splitlines()]
        assert len(messages) >= pattern["count"], pattern["template"]
    assert doc["see_examples"] == doc["patterns"][0]["search"]
