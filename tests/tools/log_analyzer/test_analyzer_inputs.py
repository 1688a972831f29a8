"""Input and output the analyzer must survive: hostile text, odd files, odd timestamps, a cache it cannot trust."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from crypto_observability.log_analyzer import engine
from crypto_observability.log_analyzer.cache import RecordCache
from crypto_observability.log_analyzer.cli import main
from crypto_observability.log_analyzer.sources import LogFile, resolve_with_notes

ROTATED = "s.log.20250115T100000.000Z"


def _rec(i: int, message: str = "m", level: str = "INFO", ts: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"timestamp": ts or f"2025-01-15T10:00:{i % 60:02d}.{i // 60:03d}Z", "service": "s", "module": "m",
            "level": level, "message": message, "context": {}, **extra}


def _lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _run(*args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--no-cache"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result


def _input(path: Path) -> dict[str, Any]:
    return json.loads(_run("report", str(path), "--format", "json").stdout)["input"]


def test_log_text_is_never_markup_or_a_terminal_sequence(tmp_path: Path) -> None:
    """Messages holding rich markup or escape sequences print as text, without crashing or reaching the terminal."""
    hostile = ["[/]", "[link=https://evil.example]click[/link]", "clear \x1b[2J screen", "title \x1b]0;pwned\x07"]
    (tmp_path / "x.log").write_bytes(_lines([_rec(i, m, "ERROR") for i, m in enumerate(hostile)]) + b"[/] junk\n")
    out = _run("errors", str(tmp_path)).stdout + _run("report", str(tmp_path)).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "[/]" in out and "[link=https://evil.example]" in out


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    """An exported text cell starting with = + - or @ is prefixed with a quote (OWASP CSV injection)."""
    (tmp_path / "x.log").write_bytes(_lines([_rec(i, "=cmd|' /C calc'!A0", "ERROR") for i in range(3)]))
    _run("export", str(tmp_path), "--out", str(tmp_path / "out"))
    with (tmp_path / "out" / "errors_patterns.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["example"] for row in rows] == ["'=cmd|' /C calc'!A0"]


def test_a_file_that_vanishes_is_skipped_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file rotated away between listing and reading is skipped and named, not a crash."""
    (tmp_path / "a.log").write_bytes(_lines([_rec(i) for i in range(5)]))
    gone = tmp_path / "b.log"
    gone.write_bytes(_lines([_rec(i, "b") for i in range(5)]))
    listed = resolve_with_notes([str(tmp_path)])
    gone.unlink()
    monkeypatch.setattr(engine, "resolve_with_notes", lambda specs: listed)
    ds = engine.load([str(tmp_path)])
    try:
        assert (int(ds.scalar("SELECT count(*) FROM records")), [str(f.path) for f in ds.files]) == (
            5, [str(tmp_path / "a.log")])
        assert any(str(gone) in note and "vanished" in note for note in ds.notes)
    finally:
        ds.close()


@pytest.mark.parametrize(("stamp", "expected"), [
    ("2025-01-15T10:30:00.000Z", "2025-01-15T10:30:00.000Z"),
    ("2025-01-15T10:30:00.123456Z", "2025-01-15T10:30:00.123Z"),
    ("2025-01-15T10:30:00+00:00", "2025-01-15T10:30:00.000Z"),
    ("2025-01-15T12:30:00.5+02:00", "2025-01-15T10:30:00.500Z"),
    ("2025-01-15T10:30:00", "2025-01-15T10:30:00.000Z"),
    ("2025-01-15t10:30:00z", "2025-01-15T10:30:00.000Z")])
def test_rfc3339_timestamps_in_every_form_are_read_as_utc(tmp_path: Path, stamp: str, expected: str) -> None:
    """Microseconds, offsets and a missing Z are RFC 3339 too: read, normalised to UTC, nothing malformed."""
    (tmp_path / "x.log").write_bytes(_lines([_rec(0, ts=stamp)]))
    inp = _input(tmp_path)
    assert (inp["records"], inp["start"], inp["malformed"]["count"]) == (1, expected, 0)


def test_epoch_and_far_away_timestamps_are_reported(tmp_path: Path) -> None:
    """An epoch-number timestamp is a malformed line saying so; a record decades away is counted in a note."""
    records = [_rec(i) for i in range(20)] + [_rec(0, ts="1995-01-15T10:00:00.000Z")]
    (tmp_path / "x.log").write_bytes(_lines(records) + orjson.dumps({**_rec(0), "timestamp": 1736935800}) + b"\n")
    inp = _input(tmp_path)
    assert inp["records"] == 21 and [m["reason"] for m in inp["malformed"]["lines"]] == [
        "epoch-number timestamp 1736935800 (expected RFC 3339 text)"]
    assert any(note.startswith("1 record(s) carry a timestamp more than 10 years") for note in inp["notes"])


def _docker(record: dict[str, Any]) -> bytes:
    return orjson.dumps({"log": orjson.dumps(record).decode() + "\n", "stream": "stdout", "time": "t"})


def test_docker_lines_split_at_16_kb_are_joined(tmp_path: Path) -> None:
    """A record Docker's json-file driver split into 16 KB chunks is one record, not three bad lines."""
    big = orjson.dumps(_rec(1, "x" * 40_000)).decode() + "\n"
    chunks = [orjson.dumps({"log": big[k:k + 16384], "stream": "stdout"}) for k in range(0, len(big), 16384)]
    (tmp_path / "d.log").write_bytes(b"\n".join([_docker(_rec(i)) for i in range(500)] + chunks) + b"\n")
    inp = _input(tmp_path)
    assert (inp["records"], inp["malformed"]["count"]) == (501, 0)


@pytest.mark.parametrize("cached", [False, True])
def test_a_file_mixing_docker_and_plain_lines_loses_nothing(tmp_path: Path, cached: bool) -> None:
    """Docker-wrapped and plain records in one file are all read, whether parsed afresh or into the cache."""
    lines = [orjson.dumps(_rec(i)) if i % 2 else _docker(_rec(i)) for i in range(100)]
    (tmp_path / f"{ROTATED}.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    args = ["--cache-dir", str(tmp_path / "cache")] if cached else ["--no-cache"]
    result = CliRunner().invoke(main, ["report", str(tmp_path / f"{ROTATED}.gz"), "--format", "json", *args])
    inp = json.loads(result.stdout)["input"]
    assert (inp["records"], inp["malformed"]["count"]) == (100, 0)


def test_plain_and_empty_files_named_gz_have_no_phantom_lines(tmp_path: Path) -> None:
    """A plain-text file named .gz is read as plain; an empty one is empty: no malformed line either way."""
    (tmp_path / "a.log.gz").write_bytes(_lines([_rec(0)]))
    (tmp_path / "b.log.gz").write_bytes(b"")
    (tmp_path / "c.log.gz").write_bytes(gzip.compress(b""))
    inp = _input(tmp_path)
    assert (inp["records"], inp["malformed"]["count"]) == (1, 0)


def test_each_file_is_read_once_however_it_is_named(tmp_path: Path) -> None:
    """A hard link, a copy and a rotated file caught mid-compression are each skipped with a note."""
    (tmp_path / "a.log").write_bytes(_lines([_rec(i) for i in range(10)]))
    os.link(tmp_path / "a.log", tmp_path / "hard.log")
    (tmp_path / "copy.log").write_bytes((tmp_path / "a.log").read_bytes())
    (tmp_path / ROTATED).write_bytes(_lines([_rec(i, "r") for i in range(7)]))
    (tmp_path / f"{ROTATED}.gz").write_bytes(gzip.compress(_lines([_rec(i, "r") for i in range(5)])))
    inp = _input(tmp_path)
    assert inp["records"] == 17 and len(inp["notes"]) == 3


def _gz_file(path: Path, message: str) -> LogFile:
    path.write_bytes(gzip.compress(_lines([_rec(i, message, "ERROR") for i in range(50)]), mtime=0))
    return resolve_with_notes([str(path)])[0][0]


def test_a_rewritten_file_with_its_size_and_mtime_restored_is_read_again(tmp_path: Path) -> None:
    """The cache key sees a rotated file rewritten in place, even with the same size and mtime."""
    path = tmp_path / f"{ROTATED}.gz"
    first = _gz_file(path, "aaaa")
    _gz_file(path, "bbbb")
    os.utime(path, ns=(first.mtime_ns, first.mtime_ns))
    again = resolve_with_notes([str(path)])[0][0]
    assert (again.size, again.mtime_ns) == (first.size, first.mtime_ns)
    cache = RecordCache(tmp_path / "cache")
    assert cache.key(first) != cache.key(again)


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    """Past its entry bound the cache removes the entries used longest ago."""
    cache = RecordCache(tmp_path / "cache", max_entries=2)
    files = [_gz_file(tmp_path / f"s.log.2025011{n}T100000.000Z.gz", "m") for n in range(3)]
    for number, log_file in enumerate(files):
        cache.store(log_file, lambda target: target.write_bytes(b"x") and {})
        os.utime(tmp_path / "cache" / f"{cache.key(log_file)}.json", (number, number))
    cache.store(files[2], lambda target: target.write_bytes(b"x") and {})
    assert [cache.lookup(f) is not None for f in files] == [False, True, True]


def test_fields_the_seed_puts_in_context_are_found(tmp_path: Path) -> None:
    """Records shaped like the seed's example (request_id inside context) still make journeys."""
    records = [_rec(i, user="u_1", context={"request_id": f"r{i // 2}", "response_time_ms": 5.0, "success": True})
               for i in range(6)]
    (tmp_path / "x.log").write_bytes(_lines(records))
    journeys = json.loads(_run("journeys", str(tmp_path), "--format", "json").stdout)
    assert (journeys["total"], journeys["users"][0]["user"]) == (3, "u_1")


@pytest.mark.parametrize("cached", [False, True])
def test_numbers_out_of_any_range_are_no_measure_and_no_crash(tmp_path: Path, cached: bool) -> None:
    """A response time of 1e400 (read as inf) or a memory figure past DECIMAL(18, 3) is NULL: the report holds the
    other records' figures, as the store does (schema v8)."""
    ordinary = [_rec(i, context={"response_time_ms": 100.0 + i}, performance={"memory_usage_mb": 50.0})
                for i in range(5)]
    odd = (b'{"timestamp": "2025-01-15T10:00:30.000Z", "service": "s", "module": "m", "level": "INFO", "message": "m",'
           b' "context": {"response_time_ms": 1e400}, "performance": {"memory_usage_mb": 1e40, "cpu_percent": 1e16}}\n')
    (tmp_path / (f"{ROTATED}.gz" if cached else "s.log")).write_bytes(
        gzip.compress(_lines(ordinary) + odd) if cached else _lines(ordinary) + odd)
    args = ["report", str(tmp_path), "--format", "json"]
    args += ["--cache-dir", str(tmp_path / "cache")] if cached else []
    result = CliRunner().invoke(main, args if cached else [*args, "--no-cache"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["input"]["records"] == 6
    assert [(row["count"], row["max"]) for row in report["performance"]["latency_by_service"]] == [(5, 104.0)]
    assert report["performance"]["resources"]


def test_a_record_with_an_empty_service_is_a_malformed_line(tmp_path: Path) -> None:
    """`"service": ""` names no service: counted as a malformed line with its reason, as the store's check does."""
    (tmp_path / "s.log").write_bytes(_lines([_rec(0), {**_rec(1), "service": ""}, _rec(2)]))
    found = _input(tmp_path)
    assert found["records"] == 2
    assert [(m["line"], m["reason"]) for m in found["malformed"]["lines"]] == [(2, "empty service")]
