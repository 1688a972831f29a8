"""Shared fixtures: generated log directories (built once per session) and a fixed clock."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:  # benchmarks/ (home of the record generator) is not an installed package
    sys.path.insert(0, ROOT)

NOW = datetime(2025, 1, 15, 3, 0, 0, tzinfo=UTC)
N_RECORDS = 6000


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with both services' active files and rotated .gz files (6000 records, seed 7)."""
    from benchmarks.record_generator import write_log_files

    root = tmp_path_factory.mktemp("logs")
    write_log_files(root, N_RECORDS, seed=7, rotate_every=1200)
    return root


@pytest.fixture(scope="session")
def records() -> list[dict[str, object]]:
    """The same records the ``log_dir`` fixture wrote, as dicts, for independent expected values."""
    from benchmarks.record_generator import generate_records

    return list(generate_records(N_RECORDS, seed=7))
