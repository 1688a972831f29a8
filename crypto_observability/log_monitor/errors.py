"""The monitor's exception hierarchy, so callers and the CLI can tell config, state and delivery failures apart.

MonitorError                 base; carries an exit code for the CLI
├── ConfigError              a config file is missing, unparsable or invalid (names key path, value, allowed)
├── StateError               the SQLite state is unusable or an ID does not exist
└── NotifyError              a channel is unknown or cannot be built
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class for every error the monitor raises on purpose."""

    exit_code = 1


class ConfigError(MonitorError):
    """The configuration is invalid; the message lists every problem found."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class StateError(MonitorError):
    """The state database is unusable or a referenced row does not exist."""

    exit_code = 3


class NotifyError(MonitorError):
    """A notification channel is unknown or misconfigured."""

    exit_code = 4
