"""Turn the user's files, directories and globs into the list of log files to read, oldest first.

A rotated ``<service>.log.<stamp>[-N].gz`` never changes after it is written, so it may be cached;
the active ``<service>.log`` grows and is read afresh each run. Each file is read once however it is
named: a symlink or hard link (same device and inode) or a byte-identical copy is skipped, and so is
a rotated ``.gz`` whose plain twin is still there (caught mid-compression); a file that vanishes
between listing and reading is skipped too. Every skip is reported.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crypto_observability.log_analyzer.errors_base import InputError

ROTATED = re.compile(r"\.log\.(\d{8}T\d{6}\.\d{3}Z)(-\d+)?(\.gz)?$")
LOG_SUFFIXES = (".log", ".jsonl", ".ndjson", ".json", ".gz")


@dataclass(frozen=True)
class LogFile:
    """One input file with the facts that decide how (and whether again) it is read."""

    path: Path
    size: int
    mtime_ns: int
    compressed: bool
    docker: bool
    inode: int = 0
    ctime_ns: int = 0

    @property
    def immutable(self) -> bool:
        """Say whether the file is a compressed rotated file, which by contract never changes."""
        return self.compressed

    @property
    def sort_key(self) -> tuple[str, int, str]:
        match = ROTATED.search(self.path.name)
        base = self.path.name[: match.start()] if match else self.path.name.removesuffix(".log")
        # rotated files carry their rotation time; the active file is the newest of its service
        return (base, 0 if match else 1, match.group(1) + (match.group(2) or "") if match else "")


def _is_log_name(path: Path) -> bool:
    return path.name.endswith(LOG_SUFFIXES) or ROTATED.search(path.name) is not None


def _expand(spec: str) -> list[Path]:
    path = Path(spec).expanduser()
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _is_log_name(p))
    if path.is_file():
        return [path]
    matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
    files = [p for p in matches if p.is_file()]
    if not files:
        raise InputError(f"no log files match {spec!r}: give files, directories or globs of *.log / *.gz")
    return files


def sniff_docker(path: Path, compressed: bool) -> bool:
    """Say whether the file's first non-blank line is a Docker json-file line wrapping a record."""
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            for _ in range(20):
                line = handle.readline(65536)
                if not line:
                    return False
                if line.strip():
                    return line.lstrip().startswith(b'{"log":')
    except (OSError, EOFError):
        return False
    return False


def _is_gzip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def resolve_inputs(specs: Iterable[str]) -> list[LogFile]:
    """Expand files, directories and globs into distinct log files, each service's oldest first."""
    return resolve_with_notes(specs)[0]


def _digest(path: Path) -> str | None:
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    except OSError:
        return None
    return sha.hexdigest()


def _identical(files: list[LogFile]) -> dict[LogFile, LogFile]:
    """Return each file that is a byte-identical copy of an earlier one (only same-size files are hashed)."""
    by_size: dict[int, list[LogFile]] = {}
    for log_file in files:
        by_size.setdefault(log_file.size, []).append(log_file)
    copies: dict[LogFile, LogFile] = {}
    for group in by_size.values():
        if len(group) < 2 or group[0].size == 0:
            continue
        first: dict[str, LogFile] = {}
        for log_file in group:
            digest = _digest(log_file.path)
            if digest is not None and digest in first:
                copies[log_file] = first[digest]
            elif digest is not None:
                first[digest] = log_file
    return copies


def resolve_with_notes(specs: Iterable[str]) -> tuple[list[LogFile], list[str]]:
    """Return the distinct log files, each service's oldest first, and a note for every file skipped."""
    seen: dict[Path, LogFile] = {}
    identities: dict[tuple[int, int], Path] = {}
    notes: list[str] = []
    for spec in specs:
        for path in _expand(spec):
            real = path.resolve()
            if real in seen:
                continue
            try:
                stat = os.stat(real)
            except FileNotFoundError:
                notes.append(f"skipped {real}: it vanished before it could be read (rotation?)")
                continue
            if (stat.st_dev, stat.st_ino) in identities:
                notes.append(f"skipped {real}: the same file as {identities[stat.st_dev, stat.st_ino]} (hard link)")
                continue
            identities[stat.st_dev, stat.st_ino] = real
            compressed = _is_gzip(real)
            seen[real] = LogFile(real, stat.st_size, stat.st_mtime_ns, compressed, sniff_docker(real, compressed),
                                 stat.st_ino, stat.st_ctime_ns)
    for real in list(seen):
        if real.suffix == ".gz" and ROTATED.search(real.name) and real.with_suffix("") in seen:
            notes.append(f"skipped {real}: its plain twin {real.with_suffix('').name} is still there "
                         "(caught mid-compression)")
            del seen[real]
    for copy, original in _identical(list(seen.values())).items():
        notes.append(f"skipped {copy.path}: identical content to {original.path}")
        del seen[copy.path]
    return sorted(seen.values(), key=lambda f: f.sort_key), notes
