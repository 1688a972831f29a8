"""`make test-containers`: the figures the stack test measures, printed after the run (docs/deployment.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, Any]:
    """Image sizes, build seconds and seconds to healthy, filled in by the stack fixture."""
    return FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures docs/deployment.md quotes."""
    if FIGURES:
        terminalreporter.write_sep("-", "container figures")
        terminalreporter.write_line(json.dumps(FIGURES, indent=2, sort_keys=True))
