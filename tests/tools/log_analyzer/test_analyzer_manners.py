"""log-analyzer as scripts and cron use it: --version, whole rows on a pipe, NO_COLOR, exit codes on findings."""

from __future__ import annotations

import csv
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from crypto_observability.log_analyzer.cli import FINDINGS_EXIT, main
from crypto_observability.log_analyzer.error_patterns import findings
from crypto_observability.log_analyzer.export import COLUMNS, columns_of, tables

LONG = "upstream gateway of the exchange simulator refused the connection while fetching open interest everywhere"


def _write(path: Path, messages: list[tuple[int, str, str]]) -> Path:
    """Write records (minutes ago, level, message) for market-data to ``path``."""
    now = datetime.now(UTC)
    with path.open("wb") as out:
        for ago, level, message in messages:
            stamp = (now - timedelta(minutes=ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            out.write(orjson.dumps({"timestamp": stamp, "service": "market-data", "module": "oi",
                                    "level": level, "message": message}) + b"\n")
    return path


@pytest.fixture
def runner() -> CliRunner:
    """A click runner (stdout is not a terminal, as in a pipe)."""
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    """`log-analyzer --version` prints the program and its version."""
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("log-analyzer, version ")


def test_tables_to_a_pipe_keep_whole_rows(runner: CliRunner, tmp_path: Path) -> None:
    """Printed to a pipe, a long row stays on one line (grep finds the whole pattern with its count)."""
    log = _write(tmp_path / "a.log", [(5, "ERROR", LONG)] * 3 + [(1, "INFO", "ok")])
    result = runner.invoke(main, ["errors", str(log), "--no-cache"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if LONG in line]
    assert rows and all(len(line) > 120 for line in rows)


def test_no_color_leaves_no_escape_codes(runner: CliRunner, tmp_path: Path) -> None:
    """NO_COLOR on a (forced) terminal drops bold and italic as well as colours."""
    log = _write(tmp_path / "a.log", [(5, "ERROR", "boom"), (1, "INFO", "ok")])
    result = runner.invoke(main, ["health", str(log), "--no-cache"], env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout


def test_fail_under_exits_on_a_low_score_only(runner: CliRunner, tmp_path: Path) -> None:
    """`health/report --fail-under SCORE` exits 1 below SCORE (output still printed), 0 at or above it."""
    log = _write(tmp_path / "a.log", [(m, "ERROR", "boom") for m in range(1, 20)] + [(1, "INFO", "ok")])
    score = json.loads(runner.invoke(main, ["health", str(log), "--no-cache", "--format", "json"]).stdout)["score"]
    for command in ("health", "report"):
        low = runner.invoke(main, [command, str(log), "--no-cache", "--format", "json", "--fail-under", "100"])
        assert low.exit_code == FINDINGS_EXIT == 1 and json.loads(low.stdout)
        assert "below --fail-under 100" in low.stderr
        ok = runner.invoke(main, [command, str(log), "--no-cache", "--format", "json", "--fail-under", str(score)])
        assert ok.exit_code == 0, ok.output


def test_fail_on_new_patterns(runner: CliRunner, tmp_path: Path) -> None:
    """`errors --fail-on new` exits 1 when a pattern appears only in the last window, 0 when it is old."""
    old = _write(tmp_path / "old.log", [(m, "ERROR", "boom") for m in range(60, 0, -5)])
    assert runner.invoke(main, ["errors", str(old), "--no-cache", "--fail-on", "new"]).exit_code == 0
    fresh = _write(tmp_path / "new.log", [(m, "INFO", "ok") for m in range(60, 0, -5)] + [(0, "ERROR", "fresh")])
    result = runner.invoke(main, ["errors", str(fresh), "--no-cache", "--fail-on", "new"])
    assert result.exit_code == 1 and "'fresh'" in result.stderr


def test_findings_kinds() -> None:
    """A pattern is new only when it has no count before the last window; any matches every pattern."""
    patterns = [{"series": [0, 0, 2], "spike": False, "trend": "rising"},
                {"series": [1, 0, 2], "spike": True, "trend": "steady"}]
    assert findings(patterns, ["new"]) == patterns[:1]
    assert findings(patterns, ["spike"]) == patterns[1:]
    assert findings(patterns, ["any"]) == patterns and findings(patterns, []) == []


def test_pure_garbage_is_nothing_to_analyse(runner: CliRunner, tmp_path: Path) -> None:
    """`health` on a file with no record exits 2 saying there was nothing to analyse (not score null, exit 0)."""
    path = tmp_path / "svc.log"
    path.write_bytes(b"garbage\nnot json either\n")
    result = runner.invoke(main, ["health", str(path), "--no-cache"])
    assert result.exit_code == 2
    assert "Error: nothing to analyse" in result.stderr and "2 malformed line(s)" in result.stderr


def test_export_files_are_private_and_an_empty_table_is_its_header(runner: CliRunner, log_dir: Path,
                                                                   tmp_path: Path) -> None:
    """`export` creates every CSV and dashboard.json 0640; an empty table is a CSV with only its header row."""
    out = tmp_path / "out"
    result = runner.invoke(main, ["export", str(log_dir), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    written = sorted(out.iterdir())
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o640} and len(written) == len(COLUMNS) + 1
    with (out / "journeys_failures.csv").open() as handle:
        assert list(csv.reader(handle)) == [COLUMNS["journeys_failures"]]  # the fixture has no failed journey
    with (out / "malformed_lines.csv").open() as handle:
        assert list(csv.reader(handle)) == [["file", "line", "reason", "excerpt"]]


def test_declared_columns_are_the_columns_of_a_full_table(runner: CliRunner, log_dir: Path, tmp_path: Path) -> None:
    """The header written for an empty table is the one the same table has when it has rows."""
    doc = json.loads(runner.invoke(main, ["report", str(log_dir), "--no-cache", "--format", "json"]).stdout)
    full = {name: columns_of(name, rows) for name, rows in tables(doc).items() if rows}
    assert set(tables(doc)) == set(COLUMNS) and len(full) >= len(COLUMNS) - 2
    assert full == {name: COLUMNS[name] for name in full}
