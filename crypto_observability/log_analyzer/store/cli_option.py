"""The ``--source URL`` option of the analysis commands: read the central store instead of log files.

One definition (option, help, the both-inputs rule) for every command that can read the store. There is no
environment default: ``LOG_STORE_URL`` names where ``clickhouse load`` writes, and a command that silently read the
store instead of the paths or ``LOG_DIR`` it was given would answer a different question than the one asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from crypto_observability.log_analyzer.errors_base import OptionError

F = TypeVar("F", bound=Callable[..., Any])

SOURCE_HELP = ("Read the central store instead of log files: clickhouse://user@host:8123/db (password from "
               "CLICKHOUSE_PASSWORD) or chdb:///path?database=db. Give no paths with it.")


def source_option(func: F) -> F:
    """Add ``--source URL`` (stored as ``source``) to a click command."""
    return click.option("--source", metavar="URL", default=None, help=SOURCE_HELP)(func)


def check_one_input(source: str | None, paths: Sequence[str]) -> None:
    """Raise OptionError when both a store and log paths are given: the answer would silently ignore one."""
    if source and paths:
        raise OptionError(f"--source {source!r} reads the store; it cannot be combined with paths "
                          f"({', '.join(paths)}): give one or the other")
