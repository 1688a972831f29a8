"""The command line as scripts use it: --version, -h, --format json, ack, silences, retry, config_loaded, the script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from crypto_observability.log_monitor.cli import main
from crypto_observability.log_monitor.config import config_hash, load_config

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    """A config with one match rule, and one alert fired by a `run --once`."""
    config = tmp_path / "m.yml"
    config.write_text(
        f"state_db: {tmp_path}/s.db\nsources: [{tmp_path}/app.log]\nstart_at: beginning\n"
        "rules: [{name: crit, type: match, where: {level: CRITICAL}, by: [service], window: 1d}]\n"
    )
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    (tmp_path / "app.log").write_bytes(orjson.dumps({"timestamp": stamp, "service": "md", "level": "CRITICAL"}) + b"\n")
    return config


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(list(args))
    return capsys.readouterr().out


def test_version_and_short_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the version; `-h` is help like `--help`."""
    main(["--version"])
    assert capsys.readouterr().out.startswith("log-monitor, version ")
    main(["-h"])
    assert capsys.readouterr().out.startswith("Usage: log-monitor ")


def test_status_alerts_and_check_config_speak_json(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--format json` gives parseable documents; the text status prints no Python dict reprs."""
    _cli(capsys, "run", "--once", "--config", str(setup))
    status = json.loads(_cli(capsys, "status", "--config", str(setup), "--format", "json"))
    assert [(a["rule"], a["state"], a["labels"]["service"]) for a in status["alerts"]] == [("crit", "firing", "md")]
    history = json.loads(_cli(capsys, "alerts", "--config", str(setup), "--format", "json"))
    assert {(h["kind"], h["rule"]) for h in history} >= {("transition", "crit"), ("notification", "crit")}
    checked = json.loads(_cli(capsys, "check-config", "--config", str(setup), "--format", "json"))
    assert checked == {
        "config": str(setup),
        "ok": True,
        "config_hash": config_hash(load_config(setup)),
        "rules": ["crit"],
        "channels": ["console"],
    }
    text = _cli(capsys, "status", "--config", str(setup))
    assert "{'" not in text and "follower: " in text


def test_alerts_table_names_rule_and_labels(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each history row of an alert shows its rule name and labels next to its id."""
    _cli(capsys, "run", "--once", "--config", str(setup))
    [row] = [
        r
        for r in json.loads(_cli(capsys, "alerts", "--config", str(setup), "--format", "json"))
        if r["kind"] == "transition" and r["detail"]["new"] == "firing"
    ]
    text = _cli(capsys, "alerts", "--config", str(setup))
    line = next(ln for ln in text.splitlines() if " firing" in ln or "pending" in ln)
    assert "crit" in line and "service=md" in line and str(row["alert_id"]) in line


def test_ack_needs_no_comment_and_silences_are_listed_and_expired(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ack ID` works without --comment; `silences` lists one in force, `expire` ends it, `status` shows them."""
    _cli(capsys, "run", "--once", "--config", str(setup))
    assert _cli(capsys, "ack", "1", "--config", str(setup)) == "alert 1 acknowledged\n"
    _cli(capsys, "silence", "service=md", "--for", "1h", "--comment", "deploy", "--config", str(setup))
    listed = json.loads(_cli(capsys, "silences", "--config", str(setup), "--format", "json"))
    assert [(s["id"], s["matchers"], s["comment"]) for s in listed] == [(1, [["service", "=", "md"]], "deploy")]
    status = json.loads(_cli(capsys, "status", "--config", str(setup), "--format", "json"))
    assert [s["id"] for s in status["silences"]] == [1]
    assert _cli(capsys, "expire", "1", "--config", str(setup)) == "silence #1 expired\n"
    assert json.loads(_cli(capsys, "silences", "--config", str(setup), "--format", "json")) == []


def test_retry_requeues_dead_notifications(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`log-monitor retry` puts dead rows back in the queue and says which."""
    from crypto_observability.log_monitor.store import Store

    _cli(capsys, "run", "--once", "--config", str(setup))
    store = Store(setup.parent / "s.db")
    store.db.execute("UPDATE outbox SET status='dead'")
    store.close()
    assert _cli(capsys, "retry", "--config", str(setup)) == "requeued 1 notification(s): 1\n"
    assert _cli(capsys, "retry", "--config", str(setup)) == "requeued 0 notification(s)\n"


def test_run_logs_config_loaded_with_the_config_hash(
    setup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` writes a config_loaded record (component log-monitor, 12-hex config_hash) to $LOG_DIR/log-monitor.log."""
    logs = tmp_path / "own-logs"
    monkeypatch.setenv("LOG_DIR", str(logs))
    out = _cli(capsys, "run", "--once", "--config", str(setup))
    assert out.endswith("notifications delivered\n") and len(out.splitlines()) == 1  # stdout stays the CLI's
    records = [json.loads(line) for line in (logs / "log-monitor.log").read_text().splitlines()]
    [loaded] = records  # and nothing else: the monitor's own library logging stops after this record
    assert loaded["service"] == "log-monitor"
    assert loaded["context"] == {"component": "log-monitor", "config_hash": config_hash(load_config(setup))}
    assert len(loaded["context"]["config_hash"]) == 12


def test_background_start_records_the_monitors_own_pid(setup: Path, tmp_path: Path) -> None:
    """The PID `start_monitoring.sh --background` records is log-monitor's: killing it stops the monitor."""
    state = tmp_path / "state"
    env = {
        **os.environ,
        "LOG_DIR": str(tmp_path),
        "STATE_DIR": str(state),
        "MONITOR_STATE_DB": str(state / "bg.db"),
    }
    started = subprocess.run(
        [str(ROOT / "scripts" / "start_monitoring.sh"), "--background", "--config", str(setup)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    pid = int((state / "log-monitor.pid").read_text())
    cmdline = Path(f"/proc/{pid}/cmdline")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and b"\0run\0" not in cmdline.read_bytes():
        time.sleep(0.05)  # the script checks the config, then execs into `log-monitor run`
    assert b"\0run\0" in cmdline.read_bytes() and b"log" in cmdline.read_bytes()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline and cmdline.exists() and b"zombie" not in Path(f"/proc/{pid}/status").read_bytes()
    ):
        time.sleep(0.05)
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or b"State:\tZ" in status.read_bytes()


@pytest.mark.parametrize("command", ["status", "run", "check-config"])
def test_default_config_outside_the_checkout_says_what_to_pass(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --config outside the checkout: exit 2, naming the default, where it comes from and --config."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([command])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: no config file 'config/monitor.yml' in ")
    assert "relative to the current directory" in err and "pass --config PATH" in err


def test_db_alone_needs_no_config(setup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`status --db STATE` reads the state without any config file."""
    _cli(capsys, "run", "--once", "--config", str(setup))
    monkeypatch.chdir(tmp_path)
    status = json.loads(_cli(capsys, "status", "--db", str(tmp_path / "s.db"), "--format", "json"))
    assert [a["rule"] for a in status["alerts"]] == ["crit"]


@pytest.mark.parametrize("args", [["status"], ["alerts"], ["silences"], ["ack", "1"], ["expire", "1"], ["retry"]])
def test_a_state_database_that_does_not_exist_is_an_error_and_is_not_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    """`status --db` with a typo exits 3 saying so; it does not create an empty database and report an idle monitor."""
    db = tmp_path / "typo" / "s.db"
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--db", str(db)])
    assert stopped.value.code == 3 and f"no state database at '{db}'" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_a_first_run_creates_its_state_directory_private(setup: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """With `state_db` in a directory that does not exist yet (the shipped config in a fresh clone), `run` makes it
    0750 and takes its lock there, as check-config promised."""
    state = tmp_path / "var" / "monitor" / "s.db"
    setup.write_text(setup.read_text().replace(f"state_db: {tmp_path}/s.db", f"state_db: {state}"))
    _cli(capsys, "check-config", "--config", str(setup))
    _cli(capsys, "run", "--once", "--config", str(setup))
    assert state.exists() and (state.parent.stat().st_mode & 0o777) == 0o750
    assert "crit" in _cli(capsys, "alerts", "--db", str(state))


def test_silence_for_over_100_years_is_refused_and_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence --for 9999999w` is a config error (exit 2) naming the value and the bound; no silence is stored."""
    db = str(tmp_path / "s.db")
    for too_long in ("9999999w", "99999999999999999999w"):
        with pytest.raises(SystemExit) as exit_info:
            main(["silence", "a=b", "--for", too_long, "--db", db])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err == f"Error: --for: '{too_long}' is too long (at most 100 years)\n"
    assert json.loads(_cli(capsys, "silences", "--db", db, "--format", "json")) == []


def test_a_silence_stored_past_year_9999_is_still_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A silence stored before durations were bounded (ends past year 9999): `silences` and `status` show it."""
    from crypto_observability.log_monitor.store import Store

    db = str(tmp_path / "s.db")
    store = Store(db)
    store.add_silence([["a", "=", "b"]], time.time(), time.time() + 9999999 * 604800, "old", "before the bound")
    store.close()
    listed = _cli(capsys, "silences", "--db", db)
    assert "9999-12-31 23:59:59+" in listed and "before the bound" in listed
    assert "9999-12-31 23:59:59+" in _cli(capsys, "status", "--db", db)


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-5", "0", "0s", "9999999w", "soon"])
def test_run_duration_refuses_what_is_not_a_bounded_positive_duration(value: str, tmp_path: Path) -> None:
    """`run --duration` takes the one grammar, above 0: anything else is one usage error line, exit 2
    (a subprocess: before, inf and nan ran forever)."""
    config = tmp_path / "m.yml"
    config.write_text(f"state_db: {tmp_path}/s.db\nsources: [{tmp_path}/app.log]\n")
    result = subprocess.run(
        [sys.executable, "-m", "crypto_observability.log_monitor", "run", "--config", str(config), "--duration", value],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith(f"Error: Invalid value for '--duration': '{value}' is ")
    assert "Traceback" not in result.stderr and not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("value", ["200ms", "0.2", "0h0m0.2s"])
def test_run_duration_takes_seconds_and_the_duration_grammar(
    value: str, setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --duration 0.2` (plain seconds) and `200ms` both run the monitor for that long and return."""
    started = time.monotonic()
    out = _cli(capsys, "run", "--config", str(setup), "--duration", value)
    assert out.endswith("notifications delivered\n") and time.monotonic() - started < 30
    help_text = _cli(capsys, "run", "--help")
    assert "--duration DURATION" in help_text and "1h30m" in help_text
