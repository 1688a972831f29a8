"""What a `pip install` of the wheel gives a user outside the checkout: with no extras, and with each extra alone."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
# what each extra is for, as the command its image or its user runs first (argv[0] from the fresh venv's bin/)
ENTRY_POINTS: dict[str, list[list[str]]] = {
    "market": [["python", "-c", "import services.market_data.main_with_logging"]],  # market-data.Dockerfile CMD
    "bot": [["python", "-c", "import services.telegram_bot.main_with_logging"]],  # telegram-bot.Dockerfile CMD
    "simulators": [["python", "-m", "services.exchange_simulator", "--help"],
                   ["python", "-m", "services.telegram_simulator", "--help"]],
    "clickhouse": [["log-analyzer", "clickhouse", "status", "--help"], ["python", "-c", "import clickhouse_connect"]],
    "chdb": [["log-analyzer", "clickhouse", "init", "--url", "chdb:///{work}/store"],  # an embedded store made, then
             ["log-analyzer", "clickhouse", "status", "--url", "chdb:///{work}/store"]],  # opened again
}
# the applications are not in the wheel: their images copy these packages beside it (docker/*.Dockerfile), as here
APPLICATIONS: dict[str, tuple[str, ...]] = {"market": ("market_data",), "bot": ("telegram_bot",),
                                            "simulators": ("exchange_simulator", "telegram_simulator", "market_data")}


def _build_wheel(work: Path) -> Path:
    """Build the project's wheel from a copy of the sources (building in the checkout leaves build/ there)."""
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "crypto_observability", source / "crypto_observability",
                    ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:  # one top-level package of its own: no generic `services`, `tools`
        tops = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"crypto_observability"}
    return wheel


def _clean_environ() -> dict[str, str]:
    """The environment without this checkout's virtualenv or import path."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@pytest.mark.slow
def test_plain_install_of_the_wheel_gives_working_commands(tmp_path: Path) -> None:
    """`pip install <wheel>` with no extras gives `log-analyzer` and `log-monitor` that run from any directory."""
    wheel = _build_wheel(tmp_path)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("log-analyzer", "log-monitor"):
        done = subprocess.run([str(env_dir / "bin" / command), "--help"], cwd=elsewhere, env=_clean_environ(),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        assert "Usage:" in done.stdout
    assert list(elsewhere.iterdir()) == []  # nothing (no ./logs) left behind in the working directory
    _another_team_imports_the_library(env_dir / "bin" / "python", tmp_path / "team")


def _another_team_imports_the_library(python: Path, project: Path) -> None:
    """A service with its own `services` and `tools` packages logs through the installed library, unharmed."""
    for package in ("services", "tools"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"OWNER = 'team-{package}'\n")
    program = (
        "import json, services, tools\n"
        "from crypto_observability.shared.structured_logger import create_structured_logger\n"
        "from crypto_observability.shared.logging_config import shutdown_logging\n"
        "create_structured_logger('team-api', 'main').info('team_started', api_key='sk-live-abcdef0123456789')\n"
        "shutdown_logging()\n"
        "print(json.dumps([services.OWNER, tools.OWNER]))\n")
    environ = {**_clean_environ(), "LOG_DIR": str(project / "team-logs"), "LOG_CONSOLE": "false"}
    done = subprocess.run([str(python), "-c", program], cwd=project, env=environ, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["team-services", "team-tools"]
    (line,) = (project / "team-logs" / "team-api.log").read_text().splitlines()
    record = json.loads(line)
    assert (record["message"], record["service"]) == ("team_started", "team-api")
    assert "sk-live-abcdef0123456789" not in line


def _distribution(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): lower case, runs of - _ . as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> set[str]:
    lines = (line.split("#")[0].strip() for line in CONSTRAINTS.read_text().splitlines())
    return {_distribution(line.split("==")[0]) for line in lines if "==" in line}


def _install_extra(wheel: Path, extra: str, work: Path) -> list[str]:
    """Install ``wheel[extra]`` alone into a fresh venv the way the images do; return what failed, each line naming
    the extra: the install, a distribution constraints.txt does not pin, an entry point that does not run."""
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    install = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "-c", str(CONSTRAINTS), f"{wheel}[{extra}]"],
                             capture_output=True, text=True, timeout=1200)
    if install.returncode:
        return [f"[{extra}] pip install failed: {install.stderr.strip()[-800:]}"]
    frozen = subprocess.run([str(bin_dir / "pip"), "list", "--format=freeze", "--exclude", "pip",
                             "--exclude", "setuptools", "--exclude", "crypto-assistant-observability"],
                            capture_output=True, text=True, timeout=120, check=True).stdout
    unpinned = sorted({_distribution(line.split("==")[0]) for line in frozen.split()} - _pinned())
    failures = [f"[{extra}] installs {name}, which constraints.txt does not pin" for name in unpinned]
    cwd = work / "elsewhere"
    cwd.mkdir()
    for app in APPLICATIONS.get(extra, ()):
        (cwd / "services").mkdir(exist_ok=True)
        shutil.copy(ROOT / "services" / "__init__.py", cwd / "services")
        shutil.copytree(ROOT / "services" / app, cwd / "services" / app, ignore=shutil.ignore_patterns("__pycache__"))
    for argv in ENTRY_POINTS[extra]:
        command = [str(bin_dir / argv[0]), *(arg.format(work=work) for arg in argv[1:])]
        done = subprocess.run(command, cwd=cwd, env=_clean_environ(), capture_output=True, text=True, timeout=300)
        if done.returncode:
            failures.append(f"[{extra}] {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return failures


@pytest.mark.containers
@pytest.mark.timeout(3600)
def test_each_extra_alone_runs_its_entry_point(tmp_path: Path) -> None:
    """Each extra installed alone (pinned by constraints.txt) in a fresh venv runs the entry point it exists for."""
    wheel = _build_wheel(tmp_path)
    works = {extra: tmp_path / extra for extra in ENTRY_POINTS}
    for work in works.values():
        work.mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda extra: _install_extra(wheel, extra, works[extra]), ENTRY_POINTS)
        failures = [line for lines in results for line in lines]
    assert failures == [], "\n".join(failures)
