"""``errors``' read (``load(..., problems_only=True)``): only WARNING+ rows kept, same results as a full read."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.record_generator import DEFAULT_START, generate_records, write_log_files
from crypto_observability.log_analyzer._util import time_range
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.error_patterns import analyze_errors
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.schema import ERRORS_COLUMNS


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rotated .gz and active files with bad lines, a Docker-wrapped .gz and a gzip stream cut short."""
    root = tmp_path_factory.mktemp("mixed")
    write_log_files(root, 3000, seed=11, rotate_every=700)
    active = sorted(p for p in root.iterdir() if p.name.endswith(".log"))[0]
    with open(active, "ab") as handle:  # bad lines among good ones, some looking like WARNING+ or INFO rows
        handle.write(b'not json "level":"ERROR"\n{"msg": "foreign", "level": "ERROR"}\n\xff\xfe\x00\x81\n'
                     b'{"timestamp":"2025-01-15T01:00:00.000Z","service":"x","level":"INFO"}\n'
                     b'{"timestamp":"yesterday","service":"x","level":"ERROR","message":"m"}\n'
                     b'{"timestamp":"2025-01-15T01:00:00.000Z","service":"x","level":"INFO","mess')
    recs = list(generate_records(300, seed=12, start=DEFAULT_START + timedelta(hours=5)))
    lines = [orjson.dumps({"log": orjson.dumps(r).decode() + "\n", "stream": "stdout"}) for r in recs]
    lines.insert(7, b'{"log": "plain text from a crash \\"level\\":\\"ERROR\\"\\n", "stream": "stderr"}')
    with gzip.open(root / "abc-json.log.gz", "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    cut = gzip.compress(b"\n".join(orjson.dumps(r) for r in generate_records(400, seed=13)) + b"\n")
    (root / "cut.log.20250115T000000.000Z.gz").write_bytes(cut[: len(cut) * 2 // 3])
    return root


FILTERS = [Filters(), Filters(levels=("ERROR", "CRITICAL")), Filters(services=("market-data",)),
           Filters(since=DEFAULT_START + timedelta(minutes=20), until=DEFAULT_START + timedelta(hours=5, minutes=3)),
           Filters(levels=("INFO",))]


def _errors(root: Path, filters: Filters, cache: Path | None, problems_only: bool) -> dict[str, Any]:
    ds = load([str(root)], filters, cache, columns=ERRORS_COLUMNS if problems_only else None,
              problems_only=problems_only)
    try:
        return {"errors": analyze_errors(ds), "range": time_range(ds), "bad": ds.malformed_count,
                "by_file": ds.malformed_by_file, "lines": [m.to_dict() for m in ds.malformed]}
    finally:
        ds.close()


@pytest.mark.parametrize("filters", FILTERS, ids=["none", "errors", "service", "window", "info"])
def test_problems_only_read_equals_the_full_read(mixed_dir: Path, filters: Filters, tmp_path: Path) -> None:
    """Patterns, time range and bad-line accounting match a full read: cold, and over a warm cache."""
    full = _errors(mixed_dir, filters, None, problems_only=False)
    assert full["bad"] >= 8 and full["range"][0] is not None
    assert _errors(mixed_dir, filters, None, problems_only=True) == full
    _errors(mixed_dir, filters, tmp_path / "cache", problems_only=False)  # fills the cache
    assert _errors(mixed_dir, filters, tmp_path / "cache", problems_only=True) == full


def test_problems_only_dataset_has_no_records_view(mixed_dir: Path) -> None:
    """A dataset holding only WARNING+ rows cannot be mistaken for all records."""
    import duckdb

    ds = load([str(mixed_dir)], columns=ERRORS_COLUMNS, problems_only=True)
    try:
        with pytest.raises(duckdb.CatalogException):
            ds.scalar("SELECT count(*) FROM records")
        assert ds.scalar("SELECT count(*) FROM problem_records WHERE level NOT IN ('WARNING', 'ERROR', "
                         "'CRITICAL')") == 0
    finally:
        ds.close()
