"""Suite-wide fixtures: every test starts and ends with logging and log context reset."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("PTB_TIMEDELTA", "1")  # python-telegram-bot: opt in to timedelta, no deprecation noise
# code under test that sets logging up from the environment writes here, never into the checkout
_SESSION_LOG_DIR = os.environ["LOG_DIR"] = tempfile.mkdtemp(prefix="test-logs-")


@pytest.fixture(autouse=True, scope="session")
def _remove_session_log_dir() -> Iterator[None]:
    """Leave nothing behind in /tmp either."""
    yield
    shutil.rmtree(_SESSION_LOG_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Leave no pipeline, root handler or bound context behind for the next test."""
    from services.shared.context import clear_context
    from services.shared.logging_config import shutdown_logging

    clear_context()
    yield
    shutdown_logging()
    clear_context()
