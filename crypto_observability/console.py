"""The rich console both commands draw on: whole rows to a pipe, no escape codes at all under NO_COLOR."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

PIPE_WIDTH = 100_000  # wide enough that no row of ours wraps: grep and cut see whole rows


def console(stderr: bool = False) -> Console:
    """A rich console for stdout (or stderr) that follows the terminal's width, never wraps a pipe, honours NO_COLOR.

    NO_COLOR (https://no-color.org: set and not empty) drops every style, bold and italic too, not only colours.
    rich is imported here, on first use, so JSON output never pays for it.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    width = {} if stream.isatty() else {"width": PIPE_WIDTH}
    return Console(stderr=stderr, **plain, **width)  # type: ignore[arg-type]
