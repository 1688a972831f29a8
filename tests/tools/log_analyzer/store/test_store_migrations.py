"""Schema v5 (batches spanning files) migrates a v3 store, including a load a kill left half-done under v3; v6
(the summaries kept whole) migrates a v5 store to the same report; v8 lets a load an odd value stopped complete."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.record_generator import write_log_files
from crypto_observability.log_analyzer.dashboard import build_dashboard
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.store.dataset import load_store
from crypto_observability.log_analyzer.store.loader import Loader
from crypto_observability.log_analyzer.store.migrations import applied_versions, migrate

from .conftest import RECENT
from .test_store_load import _DyingLoader, _expected, _Killed, _stored
from .test_store_reports import _write


@pytest.mark.parametrize("at", [2, 3])
def test_a_load_killed_under_v3_resumes_once_under_v5(store_client: Any, database: str, tmp_path: Path,
                                                      at: int) -> None:
    """A v3 store with a batch in flight (before or after its insert) is migrated, and the resumed load stores
    every record once."""
    write_log_files(tmp_path, 1200, seed=13, rotate_every=300, start=RECENT)
    migrate(store_client, database, up_to=3)
    with pytest.raises(_Killed):
        _DyingLoader(store_client, database, at, batch_lines=250).load([str(tmp_path)])  # one file per batch
    assert [m.version for m in migrate(store_client, database, up_to=5)] == [4, 5]
    assert applied_versions(store_client, database)[-1] == 5
    Loader(store_client, database).load([str(tmp_path)])
    assert _stored(store_client, database) == _expected(tmp_path)


def test_a_store_loaded_under_v5_reports_under_v6_as_one_loaded_under_v6(chdb_store: tuple[str, Any],
                                                                          tmp_path: Path) -> None:
    """Migrating to v6 summarises the rows already stored (backfill): every table of the report is the same as
    from a store that kept the summaries since its first insert."""
    path, client = chdb_store
    logs = _write(tmp_path / "logs", odd_values=False)  # a store before v8 fails on them (the test below)
    reports = []
    for database, first in (("v5_then_v6", 5), ("v6_from_start", 6)):
        migrate(client, database, up_to=first)
        Loader(client, database).load([str(logs)])
        migrate(client, database)
        assert client.query(f"SELECT count() FROM {database}.journey_parts").result_rows[0][0] > 0
        store = load_store(f"chdb://{path}?database={database}")
        try:
            report = build_dashboard(store, datetime(2030, 1, 1, tzinfo=UTC))
            reports.append(orjson.loads(orjson.dumps(report).replace(database.encode(), b"DB")))  # search commands
        finally:
            store.close()
    assert reports[0]["input"]["records"] > 2000 and reports[0]["journeys"]["failures"]
    assert reports[0] == reports[1]


def test_a_load_an_odd_value_stopped_under_v7_completes_once_under_v8(store_client: Any, database: str,
                                                                      tmp_path: Path) -> None:
    """Under v7 one record whose success was "maybe" (or whose memory passed Decimal64) failed the insert of its
    batch, and of every load sending it again; migrated to v8, the same load stores every record once."""
    logs = _write(tmp_path / "logs")
    migrate(store_client, database, up_to=7)
    for _ in range(2):  # the batch stays pending: a second try fails alike
        with pytest.raises(Exception, match=r"Cannot parse boolean|Decimal convert overflow"):
            Loader(store_client, database).load([str(logs)])
    assert [m.version for m in migrate(store_client, database)] == [8]
    Loader(store_client, database).load([str(logs)])
    files = load([str(logs)])
    try:
        expected = files.rows("SELECT service, count(*) FROM records GROUP BY ALL ORDER BY 1")
    finally:
        files.close()
    stored = store_client.query(f"SELECT ServiceName, count() FROM {database}.logs GROUP BY 1 ORDER BY 1").result_rows
    assert [tuple(row) for row in stored] == expected and sum(n for _, n in expected) > 2000
