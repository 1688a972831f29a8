"""The analyzer's exceptions; the CLI turns each into a message and its exit code.

    AnalyzerError            anything the user can fix (exit code 2)
    ├── InputError           no such file, empty glob, unreadable input
    └── OptionError          a filter or option value that cannot be understood
"""

from __future__ import annotations


class AnalyzerError(Exception):
    """A problem with the user's request, reported without a traceback."""

    exit_code = 2


class InputError(AnalyzerError):
    """The inputs name no readable log file."""


class OptionError(AnalyzerError):
    """An option's value is not one of the allowed forms; the message says which are."""
