"""Rotation by size and age, retention, compression, names and permissions of the log file."""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from crypto_observability.shared import _rotation
from crypto_observability.shared.file_output import RotatingFileOutput, rotated_name

T0 = 1_736_937_000.0  # 2025-01-15T10:30:00Z
NAME = re.compile(r"svc\.log\.\d{8}T\d{6}\.\d{3}Z(-\d+)?\.gz\Z")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(i: int, size: int = 100) -> bytes:
    """Return a numbered line of exactly ``size`` bytes including its newline."""
    head = f"{i:08d} "
    return (head + "x" * (size - len(head) - 1) + "\n").encode()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "svc.log"


@pytest.fixture
def outputs() -> Iterator[list[RotatingFileOutput]]:
    created: list[RotatingFileOutput] = []
    yield created
    for output in created:
        output.close()


def rotated(log: Path) -> list[Path]:
    return _rotation.list_rotated(log)


def test_size_rotation_keeps_every_file_within_max_bytes(log: Path) -> None:
    """Lines go to a new file before the active one would pass max_bytes; none is lost or split."""
    out = RotatingFileOutput(log, max_bytes=1000, backup_count=100)
    for i in range(0, 95, 5):
        out.write(b"".join(line(j) for j in range(i, i + 5)))
    out.close()
    files = rotated(log)
    assert len(files) == 9
    assert all(len(gzip.decompress(f.read_bytes())) == 1000 for f in files)
    assert log.stat().st_size == 500
    assert _rotation.read_lines(log) == [line(i) for i in range(95)]


def test_batch_larger_than_max_bytes_is_written_whole(log: Path) -> None:
    """A batch bigger than max_bytes is never split: it lands whole in a fresh file."""
    out = RotatingFileOutput(log, max_bytes=300, backup_count=10)
    out.write(line(0))
    out.write(b"".join(line(i) for i in range(1, 11)))
    out.write(line(11))
    out.close()
    sizes = [len(gzip.decompress(f.read_bytes())) for f in rotated(log)]
    assert sizes == [100, 1000]
    assert _rotation.read_lines(log) == [line(i) for i in range(12)]


def test_age_rotation_uses_the_injected_clock_and_names_the_rotation_time(log: Path) -> None:
    """Once max_age_s has passed since the file was created, the next write rotates it first."""
    clock = FakeClock()
    out = RotatingFileOutput(log, max_age_s=60, clock=clock)
    out.write(line(0))
    clock.now = T0 + 59.9
    out.write(line(1))
    assert rotated(log) == []
    clock.now = T0 + 60.25
    out.write(line(2))
    clock.now = T0 + 100
    out.write(line(3))
    out.close()
    assert [f.name for f in rotated(log)] == ["svc.log.20250115T103100.250Z.gz"]
    assert gzip.decompress(rotated(log)[0].read_bytes()) == line(0) + line(1)
    assert log.read_bytes() == line(2) + line(3)


def test_age_counts_from_file_creation_not_from_when_a_process_opened_it(
    log: Path, outputs: list[RotatingFileOutput]
) -> None:
    """A second process opening the file later still rotates it at creation + max_age_s."""
    clock = FakeClock()
    first = RotatingFileOutput(log, max_age_s=60, clock=clock)
    second = RotatingFileOutput(log, max_age_s=60, clock=clock)
    outputs += [first, second]
    first.write(line(0))
    clock.now = T0 + 50
    second.write(line(1))
    clock.now = T0 + 61
    second.write(line(2))
    assert len(rotated(log)) == 1
    first.write(line(3))  # first follows the rotation second made; no second rotation
    assert len(rotated(log)) == 1
    assert log.read_bytes() == line(2) + line(3)


def test_an_old_but_empty_file_is_not_rotated(log: Path) -> None:
    """Age alone never produces an empty rotated file; the age restarts with the first line."""
    clock = FakeClock()
    out = RotatingFileOutput(log, max_age_s=60, clock=clock)
    out.write(line(0))
    clock.now = T0 + 61
    out.write(line(1))
    assert len(rotated(log)) == 1
    clock.now = T0 + 200
    out.write(line(2))
    out.close()
    assert len(rotated(log)) == 2
    assert all(gzip.decompress(f.read_bytes()) for f in rotated(log))


@pytest.mark.parametrize("backup_count", [0, 1, 3])
def test_retention_keeps_only_the_newest_backup_count_files(log: Path, backup_count: int) -> None:
    """Beyond backup_count, the oldest rotated files are deleted; the newest lines survive."""
    out = RotatingFileOutput(log, max_bytes=200, backup_count=backup_count)
    for i in range(20):
        out.write(line(i))
    out.close()
    files = rotated(log)
    assert len(files) == backup_count
    assert _rotation.read_lines(log) == [line(i) for i in range(20 - 2 * backup_count - 2, 20)]


def test_retention_also_counts_uncompressed_files(log: Path) -> None:
    """With compress=False rotated files stay plain and are pruned all the same."""
    out = RotatingFileOutput(log, max_bytes=200, backup_count=2, compress=False)
    for i in range(20):
        out.write(line(i))
    out.close()
    files = rotated(log)
    assert len(files) == 2
    assert not any(f.name.endswith(".gz") for f in files)
    assert files[-1].read_bytes() == line(16) + line(17)


def test_compression_leaves_only_the_gz_with_the_same_bytes(log: Path) -> None:
    """A rotated file becomes <name>.gz holding exactly its bytes; no plain file or .tmp remains."""
    out = RotatingFileOutput(log, max_bytes=1000)
    payload = b"".join(line(i) for i in range(10))
    out.write(payload)
    out.write(line(10))
    out.close()
    names = sorted(os.listdir(log.parent))
    assert len(names) == 3
    assert names[0] == ".svc.log.lock"
    assert names[1] == "svc.log"
    assert NAME.match(names[2])
    assert gzip.decompress((log.parent / names[2]).read_bytes()) == payload


def test_rotated_names_are_unique_and_sort_in_rotation_order(log: Path) -> None:
    """Many rotations in one millisecond get -1, -2...; sorting by key gives rotation order."""
    clock = FakeClock()
    out = RotatingFileOutput(log, max_bytes=100, backup_count=50, clock=clock)
    for i in range(13):
        out.write(line(i))
    clock.now = T0 - 5  # the clock steps back: names must still follow rotation order
    for i in range(13, 16):
        out.write(line(i))
    out.close()
    files = rotated(log)
    assert len({f.name for f in files}) == len(files) == 15
    assert all(NAME.match(f.name) for f in files)
    assert [gzip.decompress(f.read_bytes()) for f in files] == [line(i) for i in range(15)]
    assert files[1].name == "svc.log.20250115T103000.000Z-1.gz"
    assert files[11].name == "svc.log.20250115T103000.000Z-11.gz"


def test_rotated_name_appends_the_next_free_suffix(tmp_path: Path) -> None:
    """rotated_name gives <name>.<stamp>, then -N past the highest suffix already used."""
    log = tmp_path / "svc.log"
    assert rotated_name(log, T0 + 0.0421).name == "svc.log.20250115T103000.042Z"
    (tmp_path / "svc.log.20250115T103000.042Z.gz").write_bytes(b"")
    assert rotated_name(log, T0 + 0.042).name == "svc.log.20250115T103000.042Z-1"
    (tmp_path / "svc.log.20250115T103000.042Z-4").write_bytes(b"")
    assert rotated_name(log, T0 + 0.042).name == "svc.log.20250115T103000.042Z-5"
    assert rotated_name(log, T0 + 1).name == "svc.log.20250115T103001.000Z"


@pytest.mark.parametrize("umask", [0o077, 0o000])
def test_files_are_0640_and_created_directories_0750_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    """Modes are set explicitly: the log, the lock, the .gz files 0640; new directories 0750."""
    old = os.umask(umask)
    try:
        os.chmod(tmp_path, 0o755)
        log = tmp_path / "a" / "b" / "svc.log"
        out = RotatingFileOutput(log, max_bytes=100)
        out.write(line(0))
        out.write(line(1))
        out.close()
    finally:
        os.umask(old)
    assert oct(tmp_path.stat().st_mode & 0o777) == oct(0o755)
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert oct(directory.stat().st_mode & 0o777) == oct(0o750)
    for item in log.parent.iterdir():
        assert (item.name, oct(item.stat().st_mode & 0o777)) == (item.name, oct(0o640))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": -1}, "max_bytes=-1"),
        ({"max_age_s": 0}, "max_age_s=0"),
        ({"backup_count": -2}, "backup_count=-2"),
    ],
)
def test_bad_limits_fail_at_construction_naming_the_value(
    log: Path, kwargs: dict[str, int], message: str
) -> None:
    """A nonsense limit is refused up front with the key and the bad value in the message."""
    with pytest.raises(ValueError, match=re.escape(message)):
        RotatingFileOutput(log, **kwargs)  # type: ignore[arg-type]
