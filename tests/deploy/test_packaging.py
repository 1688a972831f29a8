"""What a plain `pip install` of the wheel gives a user outside the checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_plain_install_of_the_wheel_gives_working_commands(tmp_path: Path) -> None:
    """`pip install <wheel>` with no extras gives `log-analyzer` and `log-monitor` that run from any directory."""
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ and *.egg-info there
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    for package in ("services", "tools"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)],
                   check=True, capture_output=True, timeout=120)
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    for command in ("log-analyzer", "log-monitor"):
        done = subprocess.run([str(env_dir / "bin" / command), "--help"], cwd=elsewhere, env=environ,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        assert "Usage:" in done.stdout
    assert list(elsewhere.iterdir()) == []  # nothing (no ./logs) left behind in the working directory
