"""The seed's scripts: strict bash, shellcheck-clean, --help, clear errors on bad arguments, and real runs
on a temporary LOG_DIR filled by benchmarks.record_generator."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("setup_logging.sh", "test_logging.sh", "daily_log_report.sh", "analyze_errors.sh",
           "monitor_performance.sh", "start_monitoring.sh", "cleanup_logs.sh")


def run(script: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run scripts/<script> from the repository root with a sandboxed environment."""
    return subprocess.run([str(ROOT / "scripts" / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, str]:
    """An environment whose every output path (logs, state, reports, .env, caches) is under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "MONITOR_"))}
    env.update(LOG_DIR=str(tmp_path / "logs"), STATE_DIR=str(tmp_path / "var"), REPORT_DIR=str(tmp_path / "reports"),
               ENV_FILE=str(tmp_path / "env"), SETUP_SKIP_VENV="1", HOME=str(tmp_path / "home"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    return env


@pytest.fixture(scope="module")
def recent_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 generated records per the record format, spread over the last hour, in two service files."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.record_generator import write_log_files
    finally:
        sys.path.remove(str(ROOT))
    directory = tmp_path_factory.mktemp("logs")
    write_log_files(directory, 400, seed=0, start=datetime.now(UTC) - timedelta(minutes=50))
    return directory


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_strict_bash(script: str) -> None:
    """Each script is executable and starts with `set -euo pipefail`."""
    path = ROOT / "scripts" / script
    assert path.stat().st_mode & stat.S_IXUSR
    lines = path.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:4]


def test_scripts_are_shellcheck_clean() -> None:
    """shellcheck (following the shared _common.sh) reports nothing."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (make install adds it)")
    result = subprocess.run([shellcheck, "-x", *(f"scripts/{s}" for s in SCRIPTS), "scripts/_common.sh"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_explains_usage_without_side_effects(script: str, sandbox: dict[str, str], tmp_path: Path) -> None:
    """--help exits 0 with a Usage line and writes nothing."""
    result = run(script, "--help", env=sandbox)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: " + script)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("script", "args", "message"), [
    ("analyze_errors.sh", ["abc"], "HOURS must be a whole number of at least 1, got 'abc'"),
    ("analyze_errors.sh", ["0"], "HOURS must be a whole number"),
    ("monitor_performance.sh", ["1.5"], "HOURS must be a whole number of at least 1, got '1.5'"),
    ("cleanup_logs.sh", [], "DAYS is required"),
    ("cleanup_logs.sh", ["thirty"], "DAYS must be a whole number of at least 1, got 'thirty'"),
    ("cleanup_logs.sh", ["30", "--force"], "unknown option '--force'"),
    ("cleanup_logs.sh", ["12810238940076078", "--dry-run"], "DAYS must be at most 36500, got '12810238940076078'"),
    ("cleanup_logs.sh", ["36501"], "DAYS must be at most 36500, got '36501'"),
    ("cleanup_logs.sh", ["9" * 30], f"DAYS must be at most 36500, got '{'9' * 30}'"),
    ("analyze_errors.sh", ["99999999999999999999"], "HOURS must be at most 876600"),
    ("monitor_performance.sh", ["876601"], "HOURS must be at most 876600, got '876601'"),
    ("start_monitoring.sh", ["--duration", "31557600000"], "--duration must be at most 3155760000"),
    ("start_monitoring.sh", ["--duration", "soon"], "--duration must be a whole number"),
    ("start_monitoring.sh", ["--config", "/nonexistent.yml"], "no config file '/nonexistent.yml'"),
    ("daily_log_report.sh", ["--since", "yesterday"], "--since 'yesterday': use a duration"),
    ("setup_logging.sh", ["--bogus"], "unknown argument '--bogus'"),
    ("test_logging.sh", ["web-ui"], "unknown service 'web-ui'"),
])
def test_a_bad_argument_is_a_usage_error_with_a_clear_message(script: str, args: list[str], message: str,
                                                               sandbox: dict[str, str]) -> None:
    """Exit code 2, the problem and the offending value on stderr, a pointer to --help; nothing on stdout."""
    result = run(script, *args, env=sandbox)
    assert result.returncode == 2
    assert f"{script}: error: {message}" in result.stderr
    assert f"Try '{script} --help'." in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("script", ["analyze_errors.sh", "monitor_performance.sh", "daily_log_report.sh"])
def test_analysis_scripts_say_when_there_are_no_logs(script: str, sandbox: dict[str, str]) -> None:
    """A missing log directory is exit 1 with what to do, not a Python traceback."""
    result = run(script, env=sandbox)
    assert result.returncode == 1
    assert "no log directory" in result.stderr and "setup_logging.sh" in result.stderr


@pytest.mark.parametrize("since", ["1h30m", "1w"])
def test_daily_report_since_takes_the_one_duration_grammar(since: str, sandbox: dict[str, str]) -> None:
    """daily_log_report.sh --since takes what log-analyzer --since takes: it passes the check and meets the next."""
    result = run("daily_log_report.sh", "--since", since, env=sandbox)
    assert result.returncode == 1, result.stderr
    assert "no log directory" in result.stderr


def test_analyze_errors_reports_the_error_patterns(recent_logs: Path, sandbox: dict[str, str]) -> None:
    """analyze_errors.sh 2 --format json is log-analyzer errors over the last two hours of $LOG_DIR."""
    sandbox["LOG_DIR"] = str(recent_logs)
    result = run("analyze_errors.sh", "2", "--format", "json", env=sandbox)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document, "no error patterns found in a stream that has an incident"


def test_monitor_performance_reports_latency_and_exchanges(recent_logs: Path, sandbox: dict[str, str]) -> None:
    """monitor_performance.sh 1 prints the performance and exchange analyses (two JSON documents)."""
    sandbox["LOG_DIR"] = str(recent_logs)
    result = run("monitor_performance.sh", "1", "--format", "json", env=sandbox)
    assert result.returncode == 0, result.stderr
    decoder, text, documents = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    assert len(documents) == 2
    assert {row["service"] for row in documents[0]["latency_by_service"]} == {"market-data", "telegram-bot"}
    assert "binance" in json.dumps(documents[1])


def test_daily_report_writes_text_and_html(recent_logs: Path, sandbox: dict[str, str], tmp_path: Path) -> None:
    """daily_log_report.sh writes report-<UTC date>.txt and a self-contained .html, and prints where."""
    sandbox["LOG_DIR"] = str(recent_logs)
    result = run("daily_log_report.sh", "--out", str(tmp_path / "out"), env=sandbox)
    assert result.returncode == 0, result.stderr
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    text, html = tmp_path / "out" / f"report-{day}.txt", tmp_path / "out" / f"report-{day}.html"
    assert text.read_text().strip() and str(html) in result.stdout
    assert "<html" in html.read_text()[:500].lower()
    assert {stat.S_IMODE(p.stat().st_mode) for p in (text, html)} == {0o640}


def test_start_monitoring_validates_and_runs_once(recent_logs: Path, sandbox: dict[str, str]) -> None:
    """start_monitoring.sh --once checks the config, runs one pass over $LOG_DIR and keeps state in STATE_DIR."""
    sandbox["LOG_DIR"] = str(recent_logs)
    result = run("start_monitoring.sh", "--once", env=sandbox)
    assert result.returncode == 0, result.stderr
    assert f"following {recent_logs}" in result.stdout
    assert (Path(sandbox["STATE_DIR"]) / "log-monitor.db").exists()


def test_cleanup_deletes_only_old_rotated_files_and_reports(sandbox: dict[str, str]) -> None:
    """Rotated files and reports older than DAYS go; recent ones, every active <service>.log and its lock stay."""
    logs, reports = Path(sandbox["LOG_DIR"]), Path(sandbox["REPORT_DIR"])
    logs.mkdir()
    reports.mkdir()
    old = time.time() - 40 * 86400
    files = {
        "active_old": logs / "market-data.log", "rotated_old": logs / "market-data.log.20250101T000000.000Z.gz",
        "rotated_new": logs / "market-data.log.20250301T000000.000Z.gz",
        "report_old": reports / "report-2025-01-01.html",
        "other_old": logs / "notes.txt", "lock_old": logs / ".market-data.log.lock",
    }
    for name, path in files.items():
        path.write_text(name)
        if name.endswith("_old"):
            os.utime(path, (old, old))
    dry = run("cleanup_logs.sh", "30", "--dry-run", env=sandbox)
    assert dry.returncode == 0 and "2 file(s) older than 30 day(s) would be deleted" in dry.stdout
    assert all(path.exists() for path in files.values())
    result = run("cleanup_logs.sh", "30", env=sandbox)
    assert result.returncode == 0, result.stderr
    assert {name for name, path in files.items() if path.exists()} == {"active_old", "rotated_new", "other_old",
                                                                       "lock_old"}


def test_setup_is_idempotent_and_keeps_existing_settings(sandbox: dict[str, str]) -> None:
    """Two runs give the same .env (0600, existing values kept, no secret-free key missing), LOG_DIR 0750,
    and a rendered logrotate config that leaves the self-rotating service logs alone."""
    env_file = Path(sandbox["ENV_FILE"])
    env_file.write_text("LOG_LEVEL=DEBUG\n")
    first = run("setup_logging.sh", env=sandbox)
    assert first.returncode == 0, first.stderr
    content = env_file.read_text()
    second = run("setup_logging.sh", env=sandbox)
    assert second.returncode == 0 and "0 setting(s) added" in second.stdout
    assert env_file.read_text() == content
    settings = dict(line.split("=", 1) for line in content.splitlines() if line and not line.startswith("#"))
    assert settings["LOG_LEVEL"] == "DEBUG"
    required = {"ENVIRONMENT", "LOG_DIR", "LOG_USER_SALT", "TELEGRAM_BOT_TOKEN", "COMPOSE_PROFILES", "APP_UID"}
    assert required <= set(settings)
    assert settings["TELEGRAM_BOT_TOKEN"].startswith("100000001:sim-") and len(settings["LOG_USER_SALT"]) == 64
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(sandbox["LOG_DIR"]).stat().st_mode) == 0o750
    rotate = (Path(sandbox["STATE_DIR"]) / "logrotate.conf").read_text()
    assert "@STATE_DIR@" not in rotate and "@USER@" not in rotate
    assert f"{sandbox['STATE_DIR']}/log-monitor.out {{" in rotate
    assert ".log {" not in rotate and "/*.log" not in rotate


def test_setup_never_writes_a_root_app_uid_and_records_the_commit(sandbox: dict[str, str], tmp_path: Path) -> None:
    """APP_UID/APP_GID are the user's ids, 10001 for root (an old APP_UID=0 is replaced), LOG_DIR is owned by
    them; GIT_COMMIT is the checkout's commit."""
    env_file = tmp_path / "env"
    env_file.write_text("APP_UID=0\nAPP_GID=0\n")
    result = run("setup_logging.sh", env={**sandbox, "ENV_FILE": str(env_file)})
    assert result.returncode == 0, result.stderr
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and line[0] != "#")
    assert (settings["APP_UID"], settings["APP_GID"]) == (str(os.getuid() or 10001), str(os.getgid() or 10001))
    log_dir = Path(sandbox["LOG_DIR"]).stat()
    assert (log_dir.st_uid, log_dir.st_gid) == (int(settings["APP_UID"]), int(settings["APP_GID"]))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    assert settings["GIT_COMMIT"] == commit


def test_test_logging_verifies_every_road_of_every_service(sandbox: dict[str, str]) -> None:
    """test_logging.sh emits through each logger of both services and finds each record parsed and redacted."""
    result = run("test_logging.sh", env=sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    for road in ("stdlib logger", "StructuredLogger", "third-party (httpx)", "MarketLogger", "ExchangeLogger",
                 "BotLogger"):
        assert road in result.stdout
    assert "FAIL" not in result.stdout
    lines = [json.loads(line) for name in ("market-data", "telegram-bot")
             for line in (Path(sandbox["STATE_DIR"]) / "selftest" / f"{name}.log").read_text().splitlines()]
    assert len(lines) >= 9 and not Path(sandbox["LOG_DIR"]).exists()  # the real logs never see the self-test



@pytest.mark.parametrize(("days", "count"), [("08", 1), ("010", 0), ("0009", 1), ("000000000000000000000011", 0)])
def test_cleanup_reads_days_as_decimal(days: str, count: int, sandbox: dict[str, str]) -> None:
    """A leading zero is decimal, not octal: 08 is 8 days (no printf error), 010 is 10; the summary says the same."""
    logs = Path(sandbox["LOG_DIR"])
    logs.mkdir()
    rotated = logs / "market-data.log.20250101T000000.000Z.gz"
    rotated.write_text("x")
    nine_and_a_half_days = time.time() - 9.5 * 86400
    os.utime(rotated, (nine_and_a_half_days, nine_and_a_half_days))
    result = run("cleanup_logs.sh", days, "--dry-run", env=sandbox)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(f"{count} file(s) older than {int(days)} day(s) would be deleted\n")


@pytest.mark.parametrize(("script", "args"), [
    ("analyze_errors.sh", ["2", "--format", "json"]),
    ("start_monitoring.sh", ["--config", str(ROOT / "config" / "monitor.yml"), "--once"]),
])
def test_without_a_venv_the_scripts_run_the_package_with_python_m(script: str, args: list[str], recent_logs: Path,
                                                                  sandbox: dict[str, str], tmp_path: Path) -> None:
    """No .venv beside the scripts and no console script on PATH: run_tool falls back to
    `python3 -m crypto_observability.log_analyzer|log_monitor`, here a python3 that has the package installed."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python3 = bin_dir / "python3"
    python3.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python3.chmod(0o755)
    logs = tmp_path / "logs"
    shutil.copytree(recent_logs, logs)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": sandbox["HOME"], "LOG_DIR": str(logs),
           "STATE_DIR": sandbox["STATE_DIR"], "REPORT_DIR": sandbox["REPORT_DIR"]}
    assert shutil.which("log-analyzer", path=env["PATH"]) is None
    assert shutil.which("log-monitor", path=env["PATH"]) is None
    result = subprocess.run([str(repo / "scripts" / script), *args], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "No module named" not in result.stderr
    if script == "analyze_errors.sh":
        assert json.loads(result.stdout)
    else:
        assert "notifications delivered" in result.stdout


def _monitor_env(sandbox: dict[str, str]) -> dict[str, str]:
    """The sandbox with an empty service log, so a monitor has something to follow."""
    logs = Path(sandbox["LOG_DIR"])
    logs.mkdir()
    (logs / "market-data.log").write_text("")
    return sandbox


def _stop(pid: int) -> None:
    """SIGTERM pid and wait until it is gone (or a zombie)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and status.exists() and b"State:\tZ" not in status.read_bytes():
        time.sleep(0.05)


def test_background_start_refuses_while_the_recorded_monitor_runs(sandbox: dict[str, str]) -> None:
    """A second --background while the recorded monitor runs says so, exits 1 and keeps the recorded pid."""
    env = _monitor_env(sandbox)
    pid_file = Path(env["STATE_DIR"]) / "log-monitor.pid"
    first = run("start_monitoring.sh", "--background", env=env)
    assert first.returncode == 0, first.stderr
    pid = int(pid_file.read_text())
    try:
        assert f"log-monitor started (pid {pid})" in first.stdout
        second = run("start_monitoring.sh", "--background", env=env)
        assert second.returncode == 1 and second.stdout == ""
        assert (f"start_monitoring.sh: error: log-monitor is already running (pid {pid}, recorded in {pid_file})"
                in second.stderr)
        assert int(pid_file.read_text()) == pid
        os.kill(pid, 0)  # the first monitor is untouched
    finally:
        _stop(pid)


def test_background_start_reports_a_monitor_that_exits_at_once(sandbox: dict[str, str]) -> None:
    """The new monitor cannot run (another process holds the state lock): its last output on stderr, exit 1, no
    pid left recorded; a stale pid file of a dead process does not block the start."""
    env = {**_monitor_env(sandbox), "START_MONITORING_WAIT": "30"}  # returns as soon as the child is gone
    state = Path(env["STATE_DIR"])
    state.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (state / "log-monitor.pid").write_text(f"{dead.pid}\n")
    with open(state / "log-monitor.db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        result = run("start_monitoring.sh", "--background", env=env)
    assert result.returncode == 1 and "started" not in result.stdout
    assert "start_monitoring.sh: error: log-monitor exited at once (exit 3)" in result.stderr
    assert f"another log-monitor (pid {os.getpid()}) is running on this state database" in result.stderr
    assert not (state / "log-monitor.pid").exists()


def test_background_once_that_finishes_is_no_failure(sandbox: dict[str, str]) -> None:
    """--background --once that is done within the wait: exit 0, says it finished, no pid left recorded."""
    env = {**_monitor_env(sandbox), "START_MONITORING_WAIT": "30"}
    result = run("start_monitoring.sh", "--background", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "log-monitor ran and finished" in result.stdout
    assert not (Path(env["STATE_DIR"]) / "log-monitor.pid").exists()


def test_foreground_banner_claims_no_state_the_config_does_not_use(sandbox: dict[str, str], tmp_path: Path) -> None:
    """A config naming a literal state_db: the banner does not name $MONITOR_STATE_DB's default, which is unused."""
    env = _monitor_env(sandbox)
    config = tmp_path / "m.yml"
    config.write_text(f"state_db: {tmp_path}/literal.db\nsources: [{env['LOG_DIR']}/market-data.log]\n")
    result = run("start_monitoring.sh", "--config", str(config), "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert f"following {env['LOG_DIR']} with {config}" in result.stdout
    assert "log-monitor.db" not in result.stdout
    assert (tmp_path / "literal.db").exists()
