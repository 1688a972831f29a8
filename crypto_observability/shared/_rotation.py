"""Names, compression and retention of rotated log files: the naming contract followers rely on.

An active file ``<service>.log`` is renamed exactly once to ``<service>.log.<YYYYMMDDTHHMMSS.mmmZ>``
(``-N`` appended when that name is taken), then compressed to that name + ``.gz``; nothing
here ever renames a rotated file again.
"""

from __future__ import annotations

import calendar
import contextlib
import errno
import fcntl
import gzip
import os
import re
import time
import zlib
from pathlib import Path

FILE_MODE = 0o640
DIR_MODE = 0o750
GZ_SUFFIX = ".gz"
_TMP_SUFFIX = ".tmp"
SCRATCH_SUFFIX = GZ_SUFFIX + _TMP_SUFFIX  # a compression in progress: never a log file
_CHUNK = 1 << 20
_GZIP_LEVEL = 6
_GZIP_WBITS = 31  # zlib wbits for a gzip header and trailer


def format_stamp(when: float) -> str:
    """Render a UTC rotation time as ``YYYYMMDDTHHMMSS.mmmZ``, which sorts as text in time order."""
    millis = int(when * 1000)
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def parse_stamp(stamp: str) -> float:
    """Turn a ``YYYYMMDDTHHMMSS.mmmZ`` stamp back into seconds since the epoch."""
    seconds = calendar.timegm(time.strptime(stamp[:15], "%Y%m%dT%H%M%S"))
    return seconds + int(stamp[16:19]) / 1000


def _pattern(base: str) -> re.Pattern[str]:
    """Match the rotated names of one active file: group 1 stamp, group 2 the -N suffix, group 3 .gz."""
    return re.compile(re.escape(base) + r"\.(\d{8}T\d{6}\.\d{3}Z)(?:-(\d+))?(\.gz)?\Z")


def rotated_sort_key(path: Path, name: str) -> tuple[str, int] | None:
    """Order a rotated name of ``path`` by (stamp, suffix); None when ``name`` is not one of them."""
    match = _pattern(path.name).match(name)
    if match is None:
        return None
    return match.group(1), int(match.group(2) or 0)


def _rotated_stems(path: Path) -> dict[str, tuple[str, int]]:
    """Map each rotated stem (the name without ``.gz``) of ``path`` to its sort key."""
    pattern = _pattern(path.name)
    stems: dict[str, tuple[str, int]] = {}
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return stems
    for name in names:
        match = pattern.match(name)
        if match is not None:
            stem = name[: -len(GZ_SUFFIX)] if match.group(3) else name
            stems[stem] = (match.group(1), int(match.group(2) or 0))
    return stems


def list_rotated(path: Path) -> list[Path]:
    """List the rotated files of ``path`` oldest first (each file once, ``.gz`` when compressed)."""
    stems = _rotated_stems(path)
    result = []
    for stem in sorted(stems, key=stems.__getitem__):
        gz = path.parent / (stem + GZ_SUFFIX)
        result.append(gz if gz.exists() else path.parent / stem)
    return result


def newest_stamp(path: Path) -> str | None:
    """Return the stamp of the most recent rotated file of ``path``, or None when there is none."""
    stems = _rotated_stems(path)
    return max(stems.values())[0] if stems else None


def is_scratch(name: str) -> bool:
    """Tell whether ``name`` is a half-written file of ``compress`` (``<stem>.gz.tmp``), never a log."""
    return name.endswith(SCRATCH_SUFFIX)


def rotated_name(path: Path, when: float) -> Path:
    """Name the rotated file for ``path`` rotated at ``when``: ``<name>.<stamp>``, ``-N`` if taken.

    N is one more than the highest suffix already used with that stamp, so names stay in
    rotation order even after retention removed the older ones of the same millisecond.
    """
    stamp = format_stamp(when)
    used = [n for key_stamp, n in _rotated_stems(path).values() if key_stamp == stamp]
    base = f"{path.name}.{stamp}"
    return path.parent / (base if not used else f"{base}-{max(used) + 1}")


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents with mode 0750, whatever the umask."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for item in reversed(missing):
        try:
            os.mkdir(item, DIR_MODE)
        except FileExistsError:
            if not item.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(item)) from None
            continue
        os.chmod(item, DIR_MODE)


def open_append(path: Path) -> int:
    """Open ``path`` for appending, creating it with mode 0640 (set explicitly) when missing."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return os.open(path, flags)
    os.fchmod(fd, FILE_MODE)
    return fd


def compress(source: Path) -> bool:
    """Gzip ``source`` to ``source.gz`` (via a fsynced ``.gz.tmp``), then remove ``source``.

    Several processes may try the same file: an exclusive non-blocking flock on the source
    lets exactly one of them do it; the others return False. Raises OSError on I/O failure.
    """
    try:
        src = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(src, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if not _still_there(source, src):
            return False
        target = source.with_name(source.name + GZ_SUFFIX)
        tmp = source.with_name(source.name + SCRATCH_SUFFIX)
        _gzip_fd(src, tmp)
        os.rename(tmp, target)
        _unlink_quietly(source)  # retention may have removed it meanwhile
        return True
    finally:
        os.close(src)


def _still_there(source: Path, fd: int) -> bool:
    """Tell whether ``fd`` is still the file at ``source`` (another process may have finished it)."""
    try:
        st = os.stat(source)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _gzip_fd(src: int, tmp: Path) -> None:
    """Stream the file open as ``src`` into a new gzip file ``tmp`` (mode 0640) and fsync it."""
    dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(dst, FILE_MODE)
        packer = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        while chunk := os.read(src, _CHUNK):
            _write_all(dst, packer.compress(chunk))
        _write_all(dst, packer.flush())
        os.fsync(dst)
    except BaseException:
        os.close(dst)
        _unlink_quietly(tmp)
        raise
    os.close(dst)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``, looping over short writes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it exists; a file already gone is what we wanted."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def uncompressed(path: Path) -> list[Path]:
    """List rotated files of ``path`` not yet compressed, oldest first."""
    return [item for item in list_rotated(path) if not item.name.endswith(GZ_SUFFIX)]


def stale_scratch(path: Path) -> list[Path]:
    """List ``.gz.tmp`` files of ``path`` whose rotated file is gone: what a process killed mid-gzip left."""
    scratch = GZ_SUFFIX + _TMP_SUFFIX
    pattern = re.compile(re.escape(path.name) + r"\.\d{8}T\d{6}\.\d{3}Z(?:-\d+)?" + re.escape(scratch) + r"\Z")
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    present = set(names)
    return [path.parent / name for name in names
            if pattern.match(name) and name[: -len(scratch)] not in present]


def remove_stale_scratch(path: Path) -> None:
    """Remove the scratch files of compressions that were cut short and whose source is gone."""
    for item in stale_scratch(path):
        _unlink_quietly(item)


def leftovers(path: Path) -> bool:
    """Tell whether a killed process left work: a rotated file still plain, or a stale ``.gz.tmp``."""
    return bool(uncompressed(path) or stale_scratch(path))


def prune(path: Path, backup_count: int) -> list[Path]:
    """Delete the oldest rotated files of ``path`` beyond ``backup_count``; return what was removed."""
    stems = _rotated_stems(path)
    ordered = sorted(stems, key=stems.__getitem__)
    doomed = ordered[: max(0, len(ordered) - backup_count)]
    removed = []
    for stem in doomed:
        for name in (stem + GZ_SUFFIX, stem):
            try:
                os.unlink(path.parent / name)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
            else:
                removed.append(path.parent / name)
    return removed


def read_lines(path: Path) -> list[bytes]:
    """Read every line of ``path``'s rotated files (oldest first, gzip or plain) then the active one."""
    lines: list[bytes] = []
    for item in [*list_rotated(path), path]:
        if item.name.endswith(GZ_SUFFIX):
            with gzip.open(item, "rb") as stream:
                lines.extend(stream.read().splitlines(keepends=True))
        elif item.exists():
            lines.extend(item.read_bytes().splitlines(keepends=True))
    return lines
