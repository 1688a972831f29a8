"""Which names a source pattern covers now: active files and their rotated siblings, never scratch files.

A listing is only a hint of where to look: a name may be gone or name another file by the time
it is opened; the follower decides from the opened descriptor (see `_file_identity`).
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crypto_observability.shared._rotation import GZ_SUFFIX, is_scratch, rotated_sort_key

OnError = Callable[[str, OSError], None]


@dataclass(frozen=True)
class Entry:
    """One listed name: its path, the active file it belongs to, and how it is to be read."""

    path: str
    source: str
    active: bool
    gz: bool


def list_pattern(pattern: str, on_error: OnError) -> tuple[list[Entry], bool]:
    """List the entries of one source pattern, rotated ones oldest first; True when no error hid any."""
    folder, base = os.path.split(pattern)
    folders = sorted(glob.glob(folder)) if glob.has_magic(folder) else [folder]
    entries: list[Entry] = []
    clean = True
    for directory in folders:
        try:
            names = os.listdir(directory or ".")
        except OSError as exc:
            on_error(directory or ".", exc)
            clean = False
            continue
        entries.extend(_entries(directory, base, names))
    return entries, clean


def _entries(directory: str, base: str, names: list[str]) -> list[Entry]:
    """Split one directory's names into the pattern's active files and their rotated siblings."""
    hidden_ok = base.startswith(".")
    present = {n for n in names if not is_scratch(n) and (hidden_ok or not n.startswith("."))}
    if not glob.has_magic(base):
        actives = {base}
    else:
        actives = {n for n in present if fnmatch.fnmatchcase(n, base) and not n.endswith(GZ_SUFFIX)}
        actives -= {n for n in actives if _owner(n, actives) is not None}  # `a.log.1` under `*`
    rotated: list[tuple[tuple[str, int, str], str, str]] = []
    for name in present - actives:
        owner = _owner(name, actives) or _owner(name, {n for n in _prefixes(name) if fnmatch.fnmatchcase(n, base)})
        if owner is not None:
            rotated.append((_sort_key(owner, name), name, owner))
    rotated.sort()
    prefix = os.path.join(directory, "") if directory else ""
    out = [Entry(prefix + name, prefix + owner, False, name.endswith(GZ_SUFFIX)) for _, name, owner in rotated]
    out.extend(Entry(prefix + n, prefix + n, True, False) for n in sorted(actives) if n in present)
    return out


def _owner(name: str, actives: set[str]) -> str | None:
    """The shortest active name of which ``name`` is a rotated sibling (``<active>.<suffix>``)."""
    for prefix in _prefixes(name):
        if prefix in actives:
            return prefix
    return None


def _prefixes(name: str) -> list[str]:
    """``a.log.1.gz`` -> ``a``, ``a.log``, ``a.log.1``: the candidate active names, shortest first."""
    out = []
    i = name.find(".", 1)
    while i > 0:
        out.append(name[:i])
        i = name.find(".", i + 1)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _sort_key(owner: str, name: str) -> tuple[str, int, str]:
    """Rotated files oldest first: by the naming contract's (stamp, -N), else by name (rotated names never change)."""
    return (*(rotated_sort_key(Path(owner), name) or ("", 0)), name)
