"""A fresh database in the session's embedded ClickHouse (``chdb_store``, tests/conftest.py) for each test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # inside the 30-day retention
_numbers = itertools.count()


@pytest.fixture
def store_client(chdb_store: tuple[str, Any]) -> Any:
    return chdb_store[1]


@pytest.fixture
def database() -> str:
    return f"t{next(_numbers)}"


@pytest.fixture
def store_url(chdb_store: tuple[str, Any], database: str) -> str:
    return f"chdb://{chdb_store[0]}?database={database}"
