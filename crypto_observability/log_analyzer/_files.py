"""Outputs are as private as the logs they come from: files 0640 in 0750 directories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def private_dir(path: Path) -> Path:
    """Create a directory and any missing parents 0750; existing ones are left as their owners set them."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o750, exist_ok=True)
        directory.chmod(0o750)
    return path


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing, created 0640 from the start (never briefly world-readable), truncated."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    os.fchmod(fd, 0o640)  # an existing file keeps no wider mode
    return open(fd, mode, **kwargs)  # the caller closes it (with ...)


def private_file(path: Path) -> Path:
    """Make a written file 0640."""
    path.chmod(0o640)
    return path
