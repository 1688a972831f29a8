"""Schema v5 (batches spanning files) migrates a v3 store, including a load a kill left half-done under v3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import applied_versions, migrate

from .conftest import RECENT
from .test_store_load import _DyingLoader, _expected, _Killed, _stored


@pytest.mark.parametrize("at", [2, 3])
def test_a_load_killed_under_v3_resumes_once_under_v5(store_client: Any, database: str, tmp_path: Path,
                                                      at: int) -> None:
    """A v3 store with a batch in flight (before or after its insert) is migrated, and the resumed load stores
    every record once."""
    write_log_files(tmp_path, 1200, seed=13, rotate_every=300, start=RECENT)
    migrate(store_client, database, up_to=3)
    with pytest.raises(_Killed):
        _DyingLoader(store_client, database, at, batch_lines=250).load([str(tmp_path)])  # one file per batch
    assert [m.version for m in migrate(store_client, database)] == [4, 5]
    assert applied_versions(store_client, database)[-1] == 5
    Loader(store_client, database).load([str(tmp_path)])
    assert _stored(store_client, database) == _expected(tmp_path)
