"""Suite-wide fixtures: every test starts and ends with logging and log context reset."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("PTB_TIMEDELTA", "1")  # python-telegram-bot: opt in to timedelta, no deprecation noise


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Leave no pipeline, root handler or bound context behind for the next test."""
    from services.shared.context import clear_context
    from services.shared.logging_config import shutdown_logging

    clear_context()
    yield
    shutdown_logging()
    clear_context()
