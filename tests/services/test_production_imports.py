"""Production code never imports a simulator, the demo or a test module: they may import it, not the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the installed package (library, log-analyzer, log-monitor) and the two services
PRODUCTION = ("crypto_observability", "services/market_data", "services/telegram_bot")
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
    """No module of market-data, telegram-bot, the library or the commands imports a simulator, the demo or tests."""
    offenders = {f"{path.relative_to(ROOT)}: {name}" for path in (ROOT / package).rglob("*.py")
                 for name in _imports(path) if name.startswith(FORBIDDEN)}
    assert offenders == set()
