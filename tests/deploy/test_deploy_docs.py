"""Every shell command shown in the deployment docs runs offline, in a sandbox; only the ones marked
`# needs-docker` are skipped, and they are listed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("logs/README.md", "docs/architecture.md", "docs/integration_guide.md", "docs/deployment.md")
DOCKER_MARK = "# needs-docker"


def _commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", (ROOT / doc).read_text(), re.S):
            found += [(doc, line.strip()) for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return found


COMMANDS = _commands()
RUNNABLE = [(doc, cmd) for doc, cmd in COMMANDS if DOCKER_MARK not in cmd]


def test_the_docs_show_commands_and_mark_the_docker_ones() -> None:
    """The skipped commands are exactly the docker ones (listed in the failure message if not)."""
    skipped = [cmd for _, cmd in COMMANDS if DOCKER_MARK in cmd]
    assert all(cmd.startswith("docker") for cmd in skipped), skipped
    assert all(not cmd.startswith("docker") for _, cmd in RUNNABLE), RUNNABLE
    assert len(RUNNABLE) >= 15 and len(skipped) >= 4


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Logs of the last hour in LOG_DIR; state, reports, .env and temp files under a temporary directory."""
    base = tmp_path_factory.mktemp("docs")
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.record_generator import write_log_files
    finally:
        sys.path.remove(str(ROOT))
    write_log_files(base / "logs", 300, seed=1, start=datetime.now(UTC) - timedelta(minutes=50))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "MONITOR_"))}
    env.update(LOG_DIR=str(base / "logs"), STATE_DIR=str(base / "var"), REPORT_DIR=str(base / "reports"),
               ENV_FILE=str(base / "env"), SETUP_SKIP_VENV="1", HOME=str(base / "home"), TMPDIR=str(base),
               XDG_CACHE_HOME=str(base / "cache"), MONITOR_STATE_DB=str(base / "var" / "monitor.db"))
    return env


@pytest.mark.parametrize(("doc", "command"), RUNNABLE, ids=[f"{d}:{c[:40]}" for d, c in RUNNABLE])
def test_documented_command_runs(doc: str, command: str, sandbox: dict[str, str]) -> None:
    """The command exits 0 from the repository root (outputs redirected into the sandbox by environment)."""
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, env=sandbox, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"{doc}: {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
