"""One embedded ClickHouse (chDB) per test session, and a fresh database in it for each test.

chDB allows one data directory per process, so tests share it and isolate themselves by database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("chdb", reason="the [chdb] extra is not installed")

from tools.log_analyzer.store.connection import connect, parse_store_url  # noqa: E402

RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # inside the 30-day retention
_numbers = itertools.count()


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="session")
def store_client(store_path: Path) -> Iterator[Any]:
    client = connect(parse_store_url(f"chdb://{store_path}"))
    yield client
    client.close()


@pytest.fixture
def database() -> str:
    return f"t{next(_numbers)}"


@pytest.fixture
def store_url(store_path: Path, database: str) -> str:
    return f"chdb://{store_path}?database={database}"
