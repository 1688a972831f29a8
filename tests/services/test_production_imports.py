"""Production code never imports a simulator, the demo or a test module: they may import it, not the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
PRODUCTION = ("shared", "market_data", "telegram_bot")
FORBIDDEN = ("services.exchange_simulator", "services.telegram_simulator", "services.demo", "tests")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PRODUCTION)
def test_production_packages_import_no_simulator(package: str) -> None:
    """No module of market-data, telegram-bot or the logging library imports a simulator, the demo or tests."""
    offenders = {f"{path.relative_to(SERVICES)}: {name}" for path in (SERVICES / package).rglob("*.py")
                 for name in _imports(path) if name.startswith(FORBIDDEN)}
    assert offenders == set()
