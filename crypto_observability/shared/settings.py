"""Logging settings read once from the environment, validated, and frozen.

Every variable the README documents is parsed here and nowhere else, so a bad value
fails at setup with one error naming the variable, the value and what is allowed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .console import is_terminal
from .durations import GRAMMAR, LIMIT, DurationTooLong, parse_duration

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_SIZE_UNITS = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024**2, "m": 1024**2, "gb": 1024**3, "g": 1024**3}


class ConfigError(ValueError):
    """A setting has a value we cannot use; carries the variable, the value and what is allowed."""

    def __init__(self, variable: str, value: str, allowed: str) -> None:
        self.variable, self.value, self.allowed = variable, value, allowed
        super().__init__(f"{variable}={value!r} is not valid: expected {allowed}")


@dataclass(frozen=True, slots=True)
class LogSettings:
    """What setup_service_logging() needs to know, with the documented defaults."""

    level: int = LEVELS["INFO"]
    log_dir: Path = Path("logs")
    console: bool = True
    file: bool = True
    format: str = "json"
    monitoring: bool = True
    max_bytes: int = 50 * 1024**2
    max_age_s: float | None = 86400.0
    backup_count: int = 10
    environment: str = "development"
    git_commit: str | None = None
    user_salt: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, stdout_isatty: bool | None = None) -> LogSettings:
        """Read and validate every LOG_* setting; raise ConfigError on the first bad one."""
        env = os.environ if environ is None else environ
        tty = is_terminal(sys.stdout) if stdout_isatty is None else stdout_isatty
        return cls(
            level=_level(env.get("LOG_LEVEL", "INFO")),
            log_dir=Path(env.get("LOG_DIR") or "logs"),
            console=_bool(env, "LOG_CONSOLE", True),
            file=_bool(env, "LOG_FILE", True),
            format=_format(env.get("LOG_FORMAT"), tty),
            monitoring=_bool(env, "MONITORING_ENABLED", True),
            max_bytes=_size(env.get("LOG_MAX_BYTES", "50MB")),
            max_age_s=_age(env.get("LOG_MAX_AGE", "1d")),
            backup_count=_count(env.get("LOG_BACKUP_COUNT", "10")),
            environment=_environment(env.get("ENVIRONMENT", "development")),
            git_commit=_commit(env.get("GIT_COMMIT")),
            user_salt=env.get("LOG_USER_SALT") or None,
        )


def _level(raw: str) -> int:
    value = raw.strip().upper()
    if value in LEVELS:
        return LEVELS[value]
    raise ConfigError("LOG_LEVEL", raw, "one of " + ", ".join(LEVELS))


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, raw, "true or false (also 1/0, yes/no, on/off)")


def _format(raw: str | None, tty: bool) -> str:
    if raw is None or raw.strip() == "":
        return "console" if tty else "json"
    value = raw.strip().lower()
    if value in ("json", "console"):
        return value
    raise ConfigError("LOG_FORMAT", raw, "json or console")


def _size(raw: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", raw)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _SIZE_UNITS or int(match.group(1)) * _SIZE_UNITS[unit] < 1024:
        raise ConfigError("LOG_MAX_BYTES", raw, "a size of at least 1KB, like 52428800, 500KB, 50MB or 1GB")
    return int(match.group(1)) * _SIZE_UNITS[unit]


def _age(raw: str) -> float | None:
    if raw.strip().lower() in ("", "0", "none", "off"):
        return None
    try:
        return parse_duration(raw)
    except DurationTooLong:
        raise ConfigError("LOG_MAX_AGE", raw, f"a duration of {LIMIT}, or 'none'") from None
    except ValueError:
        raise ConfigError("LOG_MAX_AGE", raw, f"{GRAMMAR}, or 'none'") from None


def _count(raw: str) -> int:
    if raw.strip().isdigit():
        return int(raw)
    raise ConfigError("LOG_BACKUP_COUNT", raw, "a whole number of rotated files to keep, 0 or more")


def _environment(raw: str) -> str:
    value = raw.strip().lower()
    if re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", value):
        return value
    raise ConfigError("ENVIRONMENT", raw, "a short name like development, staging or production")


_UNKNOWN_COMMIT = {"", "unknown", "none", "null"}  # what builds write when they do not know the commit


def _commit(raw: str | None) -> str | None:
    if raw is None or raw.strip().lower() in _UNKNOWN_COMMIT:
        return None  # an unknown commit is a normal state of a build: null in the record, not an error
    value = raw.strip().lower()
    if re.fullmatch(r"[0-9a-f]{7,40}", value):
        return value[:8]
    raise ConfigError("GIT_COMMIT", raw, "a git commit hash of 7 to 40 hex digits, or 'unknown'")
