"""The demo's child processes: their stderr files are as private as the logs."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from services.demo.processes import ProcessGroup


def test_child_stderr_files_are_created_0640(tmp_path: Path) -> None:
    """processes/<name>.stderr is created 0640 whatever the umask lets through."""
    old = os.umask(0o022)
    try:
        with ProcessGroup(tmp_path, {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}) \
                as group:
            child = group.start("platform", "platform")
            child.process.wait(timeout=30)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "platform.stderr").stat().st_mode) == 0o640
