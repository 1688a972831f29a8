"""The loader puts every record of the files into the store once, however often it is run, resumed or rotated."""

from __future__ import annotations

import gzip
import shutil
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.record_generator import generate_records, write_log_files
from crypto_observability.log_analyzer.malformed import MAX_LISTED
from crypto_observability.log_analyzer.store.loader import IDENTITY_BYTES, Loader, legacy_identity
from crypto_observability.log_analyzer.store.migrations import migrate
from crypto_observability.log_analyzer.store.status import store_status

from .conftest import RECENT


def _expected(directory: Path) -> Counter[str]:
    """Count the records of every file in the directory by service, the file road's way."""
    counts: Counter[str] = Counter()
    for path in directory.iterdir():
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            for line in handle:
                if line.strip():
                    counts[orjson.loads(line)["service"]] += 1
    return counts


def _stored(client: Any, database: str) -> Counter[str]:
    rows = client.query(f"SELECT ServiceName, count() FROM {database}.logs GROUP BY ServiceName").result_rows
    return Counter(dict(rows))


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write_log_files(tmp_path / "logs", 3000, seed=3, rotate_every=400, start=RECENT)
    return tmp_path / "logs"


@pytest.fixture
def store(store_client: Any, database: str) -> str:
    migrate(store_client, database)
    return database


def test_a_load_stores_every_record_once(store_client: Any, store: str, logs: Path) -> None:
    """Every record of active and rotated files lands once; a second load sends nothing."""
    first = Loader(store_client, store, batch_lines=500).load([str(logs)])
    second = Loader(store_client, store, batch_lines=500).load([str(logs)])
    assert _stored(store_client, store) == _expected(logs)
    assert first.records == sum(_expected(logs).values())
    assert (second.records, second.skipped_files) == (0, second.files)


class _Killed(Exception):
    pass


class _DyingLoader(Loader):
    """A loader killed at its ``at``-th write to the store: a ledger write (odd) or the insert after it (even)."""

    def __init__(self, client: Any, database: str, at: int, batch_lines: int = 300) -> None:
        super().__init__(client, database, batch_lines=batch_lines)
        self.at, self.writes = at, 0

    def _die_at_the_chosen_write(self) -> None:
        self.writes += 1
        if self.writes == self.at:
            raise _Killed

    def _write_ledger(self, rows: list[tuple[str, str, int, int, str]], spans_files: bool) -> None:
        self._die_at_the_chosen_write()
        super()._write_ledger(rows, spans_files)

    def _insert(self, token: str, records: list[bytes]) -> None:
        self._die_at_the_chosen_write()
        super()._insert(token, records)


@pytest.mark.parametrize("at", [1, 2, 3, 4, 5, 8, 21])
def test_a_killed_load_resumes_without_duplicates(store_client: Any, store: str, logs: Path, at: int) -> None:
    """A load killed before or after a batch's insert (batches spanning files), run again, stores each record once."""
    with pytest.raises(_Killed):
        _DyingLoader(store_client, store, at).load([str(logs)])
    Loader(store_client, store, batch_lines=700).load([str(logs)])  # another batch size: resumes all the same
    assert _stored(store_client, store) == _expected(logs)


class _CountingLoader(Loader):
    def __init__(self, client: Any, database: str, batch_lines: int) -> None:
        super().__init__(client, database, batch_lines=batch_lines)
        self.inserts = 0

    def _insert(self, token: str, records: list[bytes]) -> None:
        self.inserts += 1
        super()._insert(token, records)


def test_a_batch_spans_files_so_many_small_files_make_few_inserts(store_client: Any, store: str,
                                                                 logs: Path) -> None:
    """Inserts are as large as the batch size allows across files (each insert has a fixed cost in the store)."""
    files = len(list(logs.iterdir()))
    loader = _CountingLoader(store_client, store, batch_lines=1000)
    assert loader.load([str(logs)]).records == 3000
    assert loader.inserts == 3 < files
    assert _stored(store_client, store) == _expected(logs)


def test_an_interrupted_batch_waits_for_all_its_files(store_client: Any, store: str, logs: Path,
                                                      tmp_path: Path) -> None:
    """A killed batch whose files are not all given again is held (not half-sent), then completed once."""
    with pytest.raises(_Killed):
        _DyingLoader(store_client, store, at=4).load([str(logs)])  # killed at the insert of a two-file batch
    alone = tmp_path / "alone"
    alone.mkdir()
    second = sorted(p for p in logs.iterdir() if p.name.startswith("market-data"))[1]
    shutil.copy(second, alone / second.name)
    partial = Loader(store_client, store).load([str(alone)])
    assert (partial.records, partial.held) == (0, [str(alone / second.name)])
    Loader(store_client, store).load([str(logs)])
    assert _stored(store_client, store) == _expected(logs)


def test_growing_and_rotated_files_are_continued_not_reloaded(store_client: Any, store: str, tmp_path: Path) -> None:
    """An active file loaded, grown, rotated (gzipped) and loaded again keeps each record once."""
    directory = tmp_path / "grow"
    write_log_files(directory, 400, seed=5, start=RECENT)
    Loader(store_client, store).load([str(directory)])
    active = directory / "market-data.log"
    appended = (directory / "telegram-bot.log").read_bytes()
    with open(active, "ab") as handle:
        handle.write(appended)  # the active file grows
    with open(active, "rb") as source, gzip.open(directory / "market-data.log.20991231T000000.000Z.gz", "wb") as gz:
        shutil.copyfileobj(source, gz)  # ... then is rotated and compressed
    active.write_bytes(b"")
    assert Loader(store_client, store).load([str(directory)]).records == appended.count(b"\n")  # only those
    assert _stored(store_client, store) == _expected(directory)


def test_lines_that_are_not_records_are_counted_with_their_place(store_client: Any, store: str,
                                                                  tmp_path: Path) -> None:
    """Junk lines are reported by file and line and never stored; the records around them are."""
    path = tmp_path / "svc.log"
    good = orjson.dumps({"timestamp": RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "service": "svc",
                         "level": "INFO", "message": "ok"})
    path.write_bytes(b"\n".join([good, b"not json", b'{"level": "INFO"}', b"", good, b"[1, 2]"]) + b"\n")
    result = Loader(store_client, store).load([str(path)])
    assert (result.records, result.malformed_count) == (2, 3)
    assert [(m.line, m.reason) for m in result.malformed] == [
        (2, "not JSON"), (3, "foreign JSON: missing timestamp, service, message"), (6, "JSON but not an object")]
    assert _stored(store_client, store) == Counter({"svc": 2})


def test_the_loader_refuses_what_the_store_would_so_load_reports_it(store_client: Any, store: str,
                                                                     tmp_path: Path) -> None:
    """A record with an empty service, or stamped after DateTime64(9)'s end, is reported by `load` with its reason:
    the load's count is what the store keeps, and the store's own check rejects nothing behind its back."""
    def line(stamp: str, service: str) -> bytes:
        return orjson.dumps({"timestamp": stamp, "service": service, "level": "ERROR", "message": "m"})
    ok = RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path = tmp_path / "svc.log"
    path.write_bytes(b"\n".join([line(ok, "svc"), line(ok, ""), line("2300-01-01T00:00:00.000Z", "svc"),
                                  line("2300-01-01T00:00:00+00:00", "svc")]) + b"\n")
    result = Loader(store_client, store).load([str(path)])
    assert (result.records, [m.line for m in result.malformed]) == (1, [2, 3, 4])
    assert result.malformed[0].reason == "empty service"
    assert "outside what the store holds" in result.malformed[1].reason
    assert _stored(store_client, store) == Counter({"svc": 1})
    assert store_client.query(f"SELECT count() FROM {store}.logs_rejected").result_rows == [(0,)]


def test_docker_json_file_lines_are_unwrapped(store_client: Any, store: str, tmp_path: Path) -> None:
    """A file written by Docker's json-file driver stores the records inside, not the wrappers."""
    stamp = RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    inner = [orjson.dumps({"timestamp": stamp, "service": "bot", "level": level, "message": f"m{n}"})
             for n, level in enumerate(("INFO", "ERROR"))]
    wrapped = [orjson.dumps({"log": line.decode() + "\n", "stream": "stdout", "time": stamp}) for line in inner]
    path = tmp_path / "container-json.log"
    path.write_bytes(b"\n".join([*wrapped, orjson.dumps({"log": "plain text\n", "stream": "stderr"})]) + b"\n")
    result = Loader(store_client, store).load([str(path)])
    assert (result.records, result.malformed_count) == (2, 1)
    rows = store_client.query(f"SELECT SeverityText, Body, Record FROM {store}.logs ORDER BY Body").result_rows
    assert rows == [("INFO", "m0", inner[0].decode()), ("ERROR", "m1", inner[1].decode())]


def _lines_of(n: int, seed: int, start: datetime = RECENT) -> list[bytes]:
    """``n`` records as the library writes them (no newline)."""
    return [orjson.dumps(rec) for rec in generate_records(n, seed=seed, start=start)]


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_a_cut_gz_loads_what_precedes_the_cut_and_is_reported(store_client: Any, store: str,
                                                              tmp_path: Path) -> None:
    """A .gz cut short loads every line before the cut and is listed unreadable; once whole, the rest loads once."""
    lines = _lines_of(3000, seed=11)
    whole = _gzip(b"".join(line + b"\n" for line in lines))
    cut = whole[: len(whole) * 2 // 3]
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).count(b"\n")
    path = tmp_path / "logs" / "market-data.log.20991231T000000.000Z.gz"
    path.parent.mkdir()
    path.write_bytes(cut)
    first = Loader(store_client, store).load([str(path.parent)])
    assert 0 < readable < len(lines)
    assert (first.files, first.lines, first.records, first.malformed_count) == (1, readable, readable, 1)
    assert [(m.file, m.line, m.reason) for m in first.malformed] == [
        (str(path), 0, "unreadable: Compressed file ended before the end-of-stream marker was reached")]
    path.write_bytes(whole)  # the copy completed
    second = Loader(store_client, store).load([str(path.parent)])
    assert (second.records, second.malformed_count) == (len(lines) - readable, 0)
    assert _stored(store_client, store) == _expected(path.parent)


def test_a_gz_whose_last_line_has_no_newline_loads_that_line(store_client: Any, store: str, tmp_path: Path) -> None:
    """A .gz never grows, so its unterminated last line is a line, loaded once."""
    lines = _lines_of(50, seed=12)
    path = tmp_path / "logs" / "market-data.log.20991231T000000.000Z.gz"
    path.parent.mkdir()
    path.write_bytes(_gzip(b"\n".join(lines)))
    assert Loader(store_client, store).load([str(path)]).records == 50
    assert Loader(store_client, store).load([str(path)]).records == 0
    assert _stored(store_client, store) == _expected(path.parent)


def test_the_unterminated_last_line_waits_in_the_active_file_and_loads_once_rotated(store_client: Any, store: str,
                                                                                     tmp_path: Path) -> None:
    """The active file's partial last line is held; renamed by rotation, then gzipped, the file gives it once."""
    lines = _lines_of(40, seed=13)
    directory = tmp_path / "logs"
    directory.mkdir()
    active = directory / "market-data.log"
    active.write_bytes(b"\n".join(lines))  # the last record is still being written
    first = Loader(store_client, store).load([str(directory)])
    assert (first.records, first.lines) == (39, 39)
    rotated = active.rename(directory / "market-data.log.20991231T000000.000Z")
    second = Loader(store_client, store).load([str(directory)])
    assert (second.records, second.lines) == (1, 1)
    (directory / (rotated.name + ".gz")).write_bytes(_gzip(rotated.read_bytes()))
    rotated.unlink()
    assert Loader(store_client, store).load([str(directory)]).records == 0
    assert _stored(store_client, store) == _expected(directory)


@pytest.mark.parametrize("first_line", [b"starting up", b"", b"=== banner ==="])
def test_files_that_only_share_a_first_line_are_two_files(store_client: Any, store: str, tmp_path: Path,
                                                          first_line: bytes) -> None:
    """Two files starting with the same line (a banner, a blank line) are each loaded whole."""
    a, b = tmp_path / "hostA-market-data.log", tmp_path / "hostB-telegram-bot.log"
    a.write_bytes(b"\n".join([first_line, *_lines_of(300, seed=14)]) + b"\n")
    b.write_bytes(b"\n".join([first_line, *_lines_of(800, seed=15)]) + b"\n")
    assert Loader(store_client, store).load([str(a)]).records == 300
    assert Loader(store_client, store).load([str(b)]).records == 800
    assert Loader(store_client, store).load([str(a), str(b)]).records == 0


def test_a_file_loaded_while_short_is_continued_when_grown_and_rotated(store_client: Any, store: str,
                                                                       tmp_path: Path) -> None:
    """A file first loaded shorter than the bytes that identify a file is still that file once grown and gzipped."""
    directory = tmp_path / "logs"
    directory.mkdir()
    lines = _lines_of(200, seed=16)
    active = directory / "market-data.log"
    active.write_bytes(b"".join(line + b"\n" for line in lines[:3]))
    assert active.stat().st_size < IDENTITY_BYTES
    assert Loader(store_client, store).load([str(directory)]).records == 3
    with open(active, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines[3:]))
    assert active.stat().st_size > IDENTITY_BYTES
    assert Loader(store_client, store).load([str(directory)]).records == 197
    assert store_status(store_client, store)["files_loaded"] == 1  # its short id moved: no second file
    (directory / "market-data.log.20991231T000000.000Z.gz").write_bytes(_gzip(active.read_bytes()))
    active.write_bytes(b"")
    assert Loader(store_client, store).load([str(directory)]).records == 0
    assert _stored(store_client, store) == _expected(directory)


def test_a_ledger_that_knew_files_by_first_line_is_moved_to_content_ids(store_client: Any, store: str,
                                                                        tmp_path: Path) -> None:
    """A previous version's ledger row (first-line id) still resumes its file, rotated; then a new file with the
    same first line, or another service's, is loaded whole."""
    directory = tmp_path / "logs"
    directory.mkdir()
    banner = b"starting up"
    old, grown, new, other = _lines_of(100, 17), _lines_of(20, 18), _lines_of(30, 19), _lines_of(40, 20)
    active = directory / "market-data.log"
    previous = Loader(store_client, store)
    previous._insert("loaded-before", old)  # what the previous version stored and recorded
    previous._write_ledger([(legacy_identity(banner), str(active), 101, 0, "")], True)
    rotated = directory / "market-data.log.20991231T000000.000Z.gz"
    rotated.write_bytes(_gzip(b"".join(line + b"\n" for line in [banner, *old, *grown])))
    active.write_bytes(b"".join(line + b"\n" for line in [banner, *new]))
    (directory / "telegram-bot.log").write_bytes(b"".join(line + b"\n" for line in [banner, *other]))
    result = Loader(store_client, store).load([str(directory)])
    assert result.records == len(grown) + len(new) + len(other)
    assert Loader(store_client, store).load([str(directory)]).records == 0
    stored = store_client.query(f"SELECT count(), uniqExact(Record) FROM {store}.logs").result_rows[0]
    assert stored == (len(old) + len(grown) + len(new) + len(other),) * 2


def test_a_file_first_loaded_short_does_not_swallow_another_with_its_start(store_client: Any, store: str,
                                                                           tmp_path: Path) -> None:
    """A file loaded while it held only a banner, then grown, is not taken for another file with that banner."""
    a, b = tmp_path / "hostA-market-data.log", tmp_path / "hostB-telegram-bot.log"
    a.write_bytes(b"starting up\n")
    assert Loader(store_client, store).load([str(a)]).malformed_count == 1
    with open(a, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in _lines_of(50, seed=21)))
    assert Loader(store_client, store).load([str(a)]).records == 50
    b.write_bytes(b"".join(line + b"\n" for line in [b"starting up", *_lines_of(80, seed=22)]))
    assert Loader(store_client, store).load([str(b)]).records == 80
    assert Loader(store_client, store).load([str(a), str(b)]).records == 0


@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_killed_load_of_a_file_changing_its_id_resumes_without_duplicates(store_client: Any, store: str,
                                                                            tmp_path: Path, at: int) -> None:
    """A file loaded short, grown, then loaded by a load killed around its first batch, resumes exactly once."""
    directory = tmp_path / "logs"
    directory.mkdir()
    lines = _lines_of(400, seed=23)
    active = directory / "market-data.log"
    active.write_bytes(b"".join(line + b"\n" for line in lines[:2]))
    Loader(store_client, store).load([str(directory)])
    with open(active, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines[2:]))
    with pytest.raises(_Killed):
        _DyingLoader(store_client, store, at, batch_lines=150).load([str(directory)])
    assert Loader(store_client, store).load([str(directory)]).records <= 398
    assert Loader(store_client, store).load([str(directory)]).records == 0
    assert _stored(store_client, store) == _expected(directory)


def test_a_corrupt_gz_loads_what_precedes_the_damage_and_is_reported(store_client: Any, store: str,
                                                                     tmp_path: Path) -> None:
    """A .gz whose data is damaged midway is listed unreadable; the load goes on with the other files."""
    fixed = datetime(2026, 1, 1, tzinfo=UTC)  # the same bytes every run: what the damage garbles depends on them
    damaged = bytearray(_gzip(b"".join(line + b"\n" for line in _lines_of(2000, seed=24, start=fixed))))
    damaged[len(damaged) // 2: len(damaged) // 2 + 64] = bytes(64)
    directory = tmp_path / "logs"
    directory.mkdir()
    path = directory / "market-data.log.20991231T000000.000Z.gz"
    path.write_bytes(bytes(damaged))
    (directory / "telegram-bot.log").write_bytes(b"".join(line + b"\n" for line in _lines_of(30, seed=25)))
    result = Loader(store_client, store).load([str(directory)])
    unreadable = [m for m in result.malformed if m.line == 0]  # listed even after the listing's cap
    assert [(m.file, m.reason) for m in unreadable] == [(str(path), "unreadable: Error -3 while decompressing data: "
                                                                    "incorrect data check")]
    assert len(result.malformed) > MAX_LISTED  # the damaged part's lines were read, and are not records
    assert 30 + 900 < result.records < 30 + 2000
