"""Suite-wide fixtures: every test starts and ends with logging and log context reset."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run: CI runs the suite once, on a fresh machine, so a failure there
# must be a property broken, not an unlucky draw. HYPOTHESIS_PROFILE=explore draws anew, to hunt for new failures
# (pin what it finds with @example).
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

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
    from crypto_observability.shared.context import clear_context
    from crypto_observability.shared.logging_config import shutdown_logging

    clear_context()
    yield
    shutdown_logging()
    clear_context()


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The session's embedded ClickHouse (chDB): its data path and a client; tests isolate by database.

    chDB runs one data directory per process, so every test that needs the engine shares this one.
    """
    pytest.importorskip("chdb", reason="the [chdb] extra is not installed")
    from crypto_observability.log_analyzer.store.connection import connect, parse_store_url

    path = tmp_path_factory.mktemp("chdb")
    client = connect(parse_store_url(f"chdb://{path}"))
    yield str(path), client
    client.close()
