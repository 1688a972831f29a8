"""LogSettings.from_env: documented defaults, and a clear error for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared.settings import ConfigError, LogSettings

VARIABLES = ["LOG_LEVEL", "LOG_DIR", "LOG_CONSOLE", "LOG_FILE", "LOG_FORMAT", "MONITORING_ENABLED",
             "LOG_MAX_BYTES", "LOG_MAX_AGE", "LOG_BACKUP_COUNT", "ENVIRONMENT", "GIT_COMMIT", "LOG_USER_SALT"]


def test_defaults_match_the_documentation() -> None:
    """An empty environment gives INFO, ./logs, console and file on, JSON off a terminal."""
    s = LogSettings.from_env({}, stdout_isatty=False)
    assert (s.level, s.log_dir, s.console, s.file, s.format) == (20, Path("logs"), True, True, "json")
    assert (s.monitoring, s.max_bytes, s.max_age_s, s.backup_count) == (True, 50 * 1024**2, 86400.0, 10)
    assert (s.environment, s.git_commit, s.user_salt) == ("development", None, None)


def test_console_format_is_the_default_on_a_terminal() -> None:
    """A person at a terminal gets readable lines unless LOG_FORMAT says otherwise."""
    assert LogSettings.from_env({}, stdout_isatty=True).format == "console"
    assert LogSettings.from_env({"LOG_FORMAT": "json"}, stdout_isatty=True).format == "json"


@pytest.mark.parametrize(("env", "field", "expected"), [
    ({"LOG_LEVEL": "debug"}, "level", 10),
    ({"LOG_CONSOLE": "off"}, "console", False),
    ({"LOG_FILE": "0"}, "file", False),
    ({"MONITORING_ENABLED": "no"}, "monitoring", False),
    ({"LOG_MAX_BYTES": "10MB"}, "max_bytes", 10 * 1024**2),
    ({"LOG_MAX_BYTES": "4096"}, "max_bytes", 4096),
    ({"LOG_MAX_AGE": "24h"}, "max_age_s", 86400.0),
    ({"LOG_MAX_AGE": "none"}, "max_age_s", None),
    ({"LOG_BACKUP_COUNT": "3"}, "backup_count", 3),
    ({"ENVIRONMENT": "Production"}, "environment", "production"),
    ({"GIT_COMMIT": "C182B71FAB"}, "git_commit", "c182b71f"),
])
def test_values_are_parsed(env: dict[str, str], field: str, expected: object) -> None:
    """Each documented spelling becomes the typed value."""
    assert getattr(LogSettings.from_env(env, stdout_isatty=False), field) == expected


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("LOG_LEVEL", "LOUD", "DEBUG"),
    ("LOG_CONSOLE", "maybe", "true or false"),
    ("LOG_FORMAT", "xml", "json or console"),
    ("LOG_MAX_BYTES", "10 parsecs", "50MB"),
    ("LOG_MAX_BYTES", "12", "at least 1KB"),
    ("LOG_MAX_AGE", "soon", "24h"),
    ("LOG_BACKUP_COUNT", "-1", "whole number"),
    ("ENVIRONMENT", "prod env!", "production"),
    ("GIT_COMMIT", "not-a-sha", "hex"),
])
def test_bad_values_name_the_variable_the_value_and_what_is_allowed(variable: str, value: str, allowed: str) -> None:
    """A bad setting fails at setup with a message a person can act on."""
    with pytest.raises(ConfigError) as caught:
        LogSettings.from_env({variable: value}, stdout_isatty=False)
    text = str(caught.value)
    assert caught.value.variable == variable and variable in text and repr(value) in text and allowed in text


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(VARIABLES), st.text(max_size=20)))
def test_any_environment_either_parses_or_raises_config_error(env: dict[str, str]) -> None:
    """No environment, however odd, crashes setup with anything but a ConfigError."""
    try:
        LogSettings.from_env(env, stdout_isatty=False)
    except ConfigError as error:
        assert error.variable in VARIABLES


@pytest.mark.parametrize("value", ["unknown", "UNKNOWN", "", "  "])
def test_an_unknown_commit_is_null_not_an_error(value: str) -> None:
    """GIT_COMMIT=unknown (the Docker build's default) or empty is a normal build: git_commit is null."""
    assert LogSettings.from_env({"GIT_COMMIT": value}, stdout_isatty=False).git_commit is None
