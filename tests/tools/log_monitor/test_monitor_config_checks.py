"""`check-config` catches everything `run` would fail on, before anything is created, and never echoes a secret."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from crypto_observability.log_monitor import commands
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import parse_config
from crypto_observability.log_monitor.errors import ConfigError
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier

T0 = 1_736_937_000.0


def _problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "monitor.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        commands.check_config(str(path), environ or {})
    return err.value.problems


def test_unset_variables_without_default_are_named(tmp_path: Path) -> None:
    """`${NOPE_LOG_DIR}` and `${NOPE_TOKEN}` unset: an error naming both, not `/market-data.log` and `token=`."""
    text = "sources: ['${NOPE_LOG_DIR}/market-data.log']\nchannels:\n  h: {type: webhook, url: 'http://x/?token=${NOPE_TOKEN}'}\n"
    assert _problems(tmp_path, text) == [
        "${NOPE_LOG_DIR}: not set and no default",
        "${NOPE_TOKEN}: not set and no default",
    ]


def test_a_default_or_a_set_variable_is_fine(tmp_path: Path) -> None:
    """`${VAR:-default}` and a set variable expand as before."""
    path = tmp_path / "monitor.yml"
    path.write_text(f"state_db: {tmp_path}/s.db\nsources: ['${{LOG_DIR:-logs}}/a.log', '${{X}}/b.log']\n")
    cfg = commands.check_config(str(path), {"X": "/srv"})
    assert cfg.sources == ["logs/a.log", "/srv/b.log"]


def test_secrets_named_by_env_must_be_set(tmp_path: Path) -> None:
    """password_env and token_env naming unset variables fail check-config, naming the key and the variable."""
    text = f"""state_db: {tmp_path}/s.db
sources: [a.log]
channels:
  mail: {{type: email, host: h, username: u, password_env: NOPE_PW, from: a@b.c, to: [d@e.f]}}
  tg: {{type: telegram, chat_id: 1, token_env: NOPE_TG}}
"""
    assert _problems(tmp_path, text) == [
        "channels.mail.password_env: environment variable NOPE_PW is not set (or empty)",
        "channels.tg.token_env: environment variable NOPE_TG is not set (or empty)",
    ]
    assert not (tmp_path / "s.db").exists()


def test_infinite_durations_are_refused(tmp_path: Path) -> None:
    """`poll_interval: .inf` is a config error naming the key, not an OverflowError in `run`."""
    [problem] = _problems(tmp_path, "sources: [a.log]\npoll_interval: .inf\n")
    assert problem.startswith("poll_interval: ")


def test_an_unusable_state_db_is_a_config_error_and_nothing_is_created(tmp_path: Path) -> None:
    """A state_db under a plain file (no directory can be made there) is named by check-config; nothing appears."""
    blocker = tmp_path / "var"
    blocker.write_text("not a directory")
    [problem] = _problems(tmp_path, f"state_db: {blocker}/sub/s.db\nsources: [a.log]\n")
    assert problem == f"state_db: '{blocker}/sub/s.db' '{blocker}' is not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.yml", "var"]


def test_an_unknown_default_channel_is_reported_at_defaults_channels(tmp_path: Path) -> None:
    """`defaults.channels: [pager]` with no such channel names `defaults.channels`, not a rule."""
    text = "sources: [a.log]\ndefaults: {channels: [pager]}\nrules: [{name: r, type: absence, services: [s]}]\n"
    [problem] = _problems(tmp_path, text)
    assert problem.endswith("defaults.channels: 'pager' is not a configured channel; allowed: console")


def test_duplicate_keys_are_refused_naming_the_key(tmp_path: Path) -> None:
    """A key given twice in one mapping is an error naming the key and both lines, not a silent last-wins."""
    text = "sources: [a.log]\npoll_interval: 1\nrules: []\npoll_interval: 2\n"
    [problem] = _problems(tmp_path, text)
    assert problem.endswith("duplicate key 'poll_interval' at line 4 (first at line 2); keep one")


def test_a_rejected_url_is_shown_without_its_path(tmp_path: Path) -> None:
    """A webhook URL that fails validation is echoed only up to its host: its token never reaches the terminal."""
    text = "sources: [a.log]\nchannels:\n  h: {type: webhook, url: 'htps://hooks.example/T0/B0/SECRETTOKEN123'}\n"
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("channels.h.url: ") and problem.endswith("(got 'htps://hooks.example/…')")


def test_no_secret_or_identity_reaches_the_state_database(tmp_path: Path) -> None:
    """Group keys and samples are redacted before they are stored: no api key, password, token or e-mail at rest."""
    secrets = ["sk_live_51Habc", "hunter2pw", "123456:ABCdefGhIJKlmnoPQRstuVWxyz0123456789", "alice@example.org"]
    cfg = parse_config(
        {
            "state_db": str(tmp_path / "s.db"),
            "sources": [str(tmp_path / "app.log")],
            "start_at": "beginning",
            "rules": [
                {"name": "m", "type": "match", "where": {"level": "ERROR"}, "by": ["service", "context.who"]},
                {"name": "e", "type": "error_rate", "by": ["context.who"], "window": 90, "min_volume": 1},
                {"name": "n", "type": "new_fingerprint"},
            ],
        }
    )
    clock = FakeClock(T0)
    m = Monitor(cfg, clock=clock, notifiers={"console": RecordingNotifier()})
    rec = {
        "timestamp": "2025-01-15T10:30:00.000Z",
        "service": "svc api_key=sk_live_51Habc",
        "level": "ERROR",
        "message": f"login failed password=hunter2pw bot{secrets[2]} for {secrets[3]}",
        "context": {"who": secrets[3]},
        "error": {"type": "E", "fingerprint": "abc"},
    }
    (tmp_path / "app.log").write_bytes(orjson.dumps(rec) + b"\n")
    m.step()
    assert {a["rule"] for a in m.engine.alerts.values()} == {"m", "e", "n"}
    m.close()
    db = sqlite3.connect(tmp_path / "s.db")
    stored = b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode()
        for (v,) in db.execute(
            "SELECT value FROM kv UNION ALL SELECT data FROM alerts UNION ALL SELECT detail FROM history"
        )
    )
    db.close()
    assert [s for s in secrets if s.encode() in stored] == []


def test_a_rejected_url_never_shows_its_user_or_password(tmp_path: Path) -> None:
    """`ftp://admin:password@host/x` is echoed as its scheme and host only, not as `ftp://admin:password/…`."""
    text = "sources: [a.log]\nchannels:\n  h: {type: webhook, url: 'ftp://admin:S3cr3tPassw0rd@hooks.example.com/x'}\n"
    [problem] = _problems(tmp_path, text)
    assert problem.endswith("(got 'ftp://hooks.example.com/…')") and "S3cr3t" not in problem and "admin" not in problem


def test_a_comment_may_name_an_unset_variable(tmp_path: Path) -> None:
    """A comment line `# set ${SLACK_URL} to enable` is not a reference that must be set."""
    path = tmp_path / "monitor.yml"
    path.write_text(f"# set ${{SLACK_URL}} to enable\nstate_db: {tmp_path}/s.db\nsources: [a.log]\n"
                    "  # ${NOPE} neither\n")
    assert commands.check_config(str(path), {}).sources == ["a.log"]


def test_a_state_db_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """An existing state_db that is some other file fails check-config, not `run` with 'file is not a database'."""
    (tmp_path / "s.db").write_text("my notes\n")
    [problem] = _problems(tmp_path, f"state_db: {tmp_path}/s.db\nsources: [a.log]\n")
    assert problem == f"state_db: '{tmp_path}/s.db' exists but is not an SQLite database"


@pytest.mark.parametrize(("line", "variable", "value", "says"), [
    ("poll_interval: ${MY_API_TOKEN}\n", "MY_API_TOKEN", "Qw3rTy9UiOpAsDfGhJkL", "poll_interval: "),  # quoted in msg
    ('channels:\n  h: {type: webhook, url: "https://h.example.com/${HOOK_TOKEN}"}\n', "HOOK_TOKEN",
     'Abc"Def123Secret', "not valid YAML"),  # the YAML error's excerpt shows the expanded line
])
def test_check_config_never_echoes_a_secret_from_the_environment(tmp_path: Path, line: str, variable: str,
                                                                  value: str, says: str) -> None:
    """A secret-named variable's value, expanded into a key that then fails, is masked in every line printed."""
    config = tmp_path / "m.yml"
    config.write_text(f"state_db: {tmp_path}/s.db\nsources: [a.log]\n{line}")
    out = subprocess.run([sys.executable, "-m", "crypto_observability.log_monitor", "check-config", "--config",
                          str(config)], env={**os.environ, variable: value}, capture_output=True, text=True)
    assert out.returncode == 2 and says in out.stderr, out.stderr
    assert value not in out.stdout + out.stderr


def test_a_numeric_duration_over_100_years_is_refused(tmp_path: Path) -> None:
    """`window: 99999999999999` (seconds) is bounded like `window: 9999999w`, naming the key."""
    [problem] = _problems(tmp_path, "sources: [a.log]\nrules: [{name: r, type: match, where: {level: CRITICAL}, "
                                    "window: 99999999999999}]\n")
    assert problem.startswith("rules[0].window: ") and "99999999999999" in problem
