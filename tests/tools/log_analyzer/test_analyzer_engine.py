"""Loading: plain and gzip files, Docker unwrapping, malformed-line accounting, the Parquet cache."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.record_generator import generate_records
from crypto_observability.log_analyzer.engine import load
from crypto_observability.log_analyzer.errors_base import InputError

dump = orjson.dumps


def test_loads_every_generated_record(log_dir: Path, records: list[dict[str, object]], tmp_path: Path) -> None:
    """Every record written to active and rotated files is loaded exactly once."""
    ds = load([str(log_dir)], cache_dir=tmp_path / "cache")
    assert ds.scalar("SELECT count(*) FROM records") == len(records)
    assert ds.malformed_count == 0
    assert any(f.path.name.endswith(".gz") for f in ds.files)
    ds.close()


def test_second_load_reads_rotated_files_from_cache(log_dir: Path, tmp_path: Path) -> None:
    """A second run reuses the Parquet copy of each rotated .gz file and finds the same records."""
    first = load([str(log_dir)], cache_dir=tmp_path / "cache")
    count = first.scalar("SELECT count(*) FROM records")
    first.close()
    second = load([str(log_dir)], cache_dir=tmp_path / "cache")
    assert second.cached_files == sum(1 for p in log_dir.iterdir() if p.name.endswith(".gz"))
    assert second.scalar("SELECT count(*) FROM records") == count
    second.close()


def test_malformed_lines_are_reported_by_file_and_line(tmp_path: Path) -> None:
    """Junk, foreign JSON, binary data and a truncated last line are counted with line numbers."""
    good = [dump(r) for r in generate_records(10, seed=1)]
    path = tmp_path / "svc.log"
    path.write_bytes(b"\n".join([good[0], b"not json", good[1], b'{"msg": "foreign"}', b"\xff\xfe\x00\x81",
                                 good[2], b""]) + good[3][:40])
    ds = load([str(path)])
    assert ds.scalar("SELECT count(*) FROM records") == 3
    assert ds.malformed_count == 4
    assert [(m.line, m.reason.split(":")[0]) for m in ds.malformed] == [
        (2, "not JSON"), (4, "foreign JSON"), (5, "binary or non-UTF-8 data"), (7, "truncated last line")]
    assert ds.malformed_by_file == {str(path.resolve()): 4}
    ds.close()


def test_docker_wrapped_gzip_lines_are_unwrapped(tmp_path: Path) -> None:
    """Docker json-file lines (here gzip-compressed) yield the records they wrap; bad wrappers are counted."""
    recs = list(generate_records(50, seed=2))
    lines = [orjson.dumps({"log": dump(r).decode() + "\n", "stream": "stdout", "time": "2025-01-15T00:00:00Z"})
             for r in recs] + [b'{"log": "plain text from a crash\\n", "stream": "stderr"}']
    path = tmp_path / "abc-json.log.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    ds = load([str(path)], cache_dir=tmp_path / "cache")
    assert ds.scalar("SELECT count(*) FROM records") == len(recs)
    assert ds.scalar("SELECT sum(rt) FROM records") == pytest.approx(
        sum(r["context"].get("response_time_ms", 0) for r in recs))  # type: ignore[union-attr]
    assert [m.line for m in ds.malformed] == [51]
    ds.close()


def test_corrupt_gzip_is_salvaged_not_fatal(tmp_path: Path) -> None:
    """A gzip stream cut short keeps the records before the cut and reports the damage."""
    recs = [dump(r) for r in generate_records(400, seed=3)]
    full = gzip.compress(b"\n".join(recs) + b"\n")
    path = tmp_path / "svc.log.20250115T000000.000Z.gz"
    path.write_bytes(full[: len(full) * 2 // 3])
    ds = load([str(path)], cache_dir=tmp_path / "cache")
    assert 0 < ds.scalar("SELECT count(*) FROM records") < 400
    assert ds.malformed_count >= 1
    ds.close()


def test_missing_input_names_the_spec(tmp_path: Path) -> None:
    """A glob matching nothing raises InputError naming it."""
    with pytest.raises(InputError, match="nothing-here"):
        load([str(tmp_path / "nothing-here*.log")])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(min_size=1, max_size=60).filter(lambda b: b"\n" not in b and b.strip()),
                     min_size=1, max_size=5))
def test_arbitrary_junk_lines_never_break_loading(junk: list[bytes], tmp_path: Path) -> None:
    """Any junk between good lines is either a record or counted as malformed, never fatal."""
    good = [dump(r) for r in generate_records(5, seed=4)]
    path = tmp_path / "fuzz.log"
    path.write_bytes(b"".join(line + b"\n" for line in [*good[:2], *junk, *good[2:]]))
    ds = load([str(path)])
    loaded = ds.scalar("SELECT count(*) FROM records")
    assert loaded >= 5
    assert loaded + ds.malformed_count == 5 + len(junk)
    ds.close()


def _dashboard(log_dir: Path, cache: Path | None, **kwargs: object) -> dict[str, object]:
    from crypto_observability.log_analyzer.dashboard import build_dashboard
    from tests.tools.log_analyzer.conftest import NOW

    ds = load([str(log_dir)], cache_dir=cache, **kwargs)  # type: ignore[arg-type]
    try:
        doc = build_dashboard(ds, NOW)
    finally:
        ds.close()
    doc["input"].pop("cached_files")  # type: ignore[attr-defined]
    return doc


def test_cached_and_uncached_dashboards_are_equal(log_dir: Path, tmp_path: Path) -> None:
    """Without cache, filling the cache, and reading from it give the same dashboard, value for value."""
    cold = _dashboard(log_dir, None)
    filling = _dashboard(log_dir, tmp_path / "cache")
    warm = _dashboard(log_dir, tmp_path / "cache")
    assert cold == filling
    assert cold == warm


def test_partial_column_read_gives_the_same_error_patterns(log_dir: Path, tmp_path: Path) -> None:
    """Reading only the error columns (cold and from a warm cache) gives the errors analysis of a full read."""
    from crypto_observability.log_analyzer.error_patterns import analyze_errors
    from crypto_observability.log_analyzer.schema import ERRORS_COLUMNS

    def errors(cache: Path | None, columns: tuple[str, ...] | None) -> dict[str, object]:
        ds = load([str(log_dir)], cache_dir=cache, columns=columns)
        try:
            return analyze_errors(ds)
        finally:
            ds.close()

    full = errors(None, None)
    assert errors(None, ERRORS_COLUMNS) == full
    assert not (tmp_path / "cache").exists()  # a partial read writes no cache
    errors(tmp_path / "cache", None)
    assert errors(tmp_path / "cache", ERRORS_COLUMNS) == full


def test_damaged_cache_entry_is_read_from_the_log_again(log_dir: Path, tmp_path: Path) -> None:
    """A cache database that cannot be opened is ignored: the rotated file is parsed again, nothing lost."""
    first = load([str(log_dir)], cache_dir=tmp_path / "cache")
    count = first.scalar("SELECT count(*) FROM records")
    first.close()
    for database in (tmp_path / "cache").glob("*.duckdb"):
        database.write_bytes(b"not a database")
    second = load([str(log_dir)], cache_dir=tmp_path / "cache")
    assert second.cached_files == 0
    assert second.scalar("SELECT count(*) FROM records") == count
    second.close()


def test_cache_entry_missing_a_table_is_rebuilt(log_dir: Path, tmp_path: Path) -> None:
    """An entry lacking a table the read needs (an older format, a half-written file) is parsed again."""
    import duckdb

    expected = _dashboard(log_dir, tmp_path / "cache")
    victim = sorted((tmp_path / "cache").glob("*.duckdb"))[0]
    with duckdb.connect(str(victim)) as con:
        con.execute("DROP TABLE counts")
    ds = load([str(log_dir)], cache_dir=tmp_path / "cache")
    assert ds.cached_files == sum(1 for p in log_dir.iterdir() if p.name.endswith(".gz")) - 1
    ds.close()
    assert _dashboard(log_dir, tmp_path / "cache") == expected


def test_unwritable_cache_directory_is_not_fatal(log_dir: Path, records: list[dict[str, object]],
                                                 tmp_path: Path) -> None:
    """A cache directory that cannot be created (here: a file is in the way) only costs the cache."""
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a directory")
    ds = load([str(log_dir)], cache_dir=blocker)
    assert ds.cached_files == 0
    assert ds.scalar("SELECT count(*) FROM records") == len(records)
    ds.close()
