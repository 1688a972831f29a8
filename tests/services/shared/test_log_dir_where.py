"""Where the library's log directory comes from, seen from a directory that is not the checkout."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import os, sys
from crypto_observability.shared.logging_config import setup_service_logging, shutdown_logging
from crypto_observability.shared.structured_logger import create_structured_logger
logger = setup_service_logging("svc", "mod")
slog = create_structured_logger("svc", "mod")
print(sorted(os.listdir(".")))
logger.info("first line")
shutdown_logging()
print(sorted(os.listdir(".")))
"""


def test_importing_and_setting_up_creates_no_directory_until_the_first_write(tmp_path: Path) -> None:
    """Import and setup leave the working directory alone; the first record creates ./logs (LOG_DIR's default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")} | {"PYTHONPATH": str(ROOT),
                                                                                 "LOG_CONSOLE": "false"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.splitlines() == ["[]", "['logs']"]
    assert "svc.log" in {p.name for p in (tmp_path / "logs").iterdir()}
