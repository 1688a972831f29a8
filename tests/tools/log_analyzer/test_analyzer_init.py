"""The package's public surface: a sorted ``__all__`` of names that all resolve."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import crypto_observability.log_analyzer as analyzer

ROOT = Path(__file__).resolve().parents[3]

EXPECTED = [
    "AnalyzerError", "Dataset", "EngineSettings", "Filters", "InputError", "MalformedLine", "OptionError",
    "RecordCache", "analyze_errors", "analyze_exchanges", "analyze_health", "analyze_journeys",
    "analyze_performance", "analyze_timeseries", "build_dashboard", "default_cache_dir", "describe_input",
    "export_csv", "load", "main", "mine_templates", "write_html",
]


def test_all_is_the_sorted_public_surface() -> None:
    """``__all__`` lists exactly the public names, sorted."""
    assert analyzer.__all__ == EXPECTED
    assert sorted(analyzer.__all__) == analyzer.__all__


@pytest.mark.parametrize("name", EXPECTED)
def test_every_exported_name_resolves(name: str) -> None:
    """Each exported name is the object its defining module holds."""
    module = importlib.import_module(f"crypto_observability.log_analyzer.{analyzer._EXPORTS[name]}")
    assert getattr(analyzer, name) is getattr(module, name)


def test_unknown_name_raises_attribute_error() -> None:
    """A name not exported raises AttributeError naming it."""
    with pytest.raises(AttributeError, match="nope"):
        analyzer.nope  # noqa: B018 - the access is the test


def test_importing_the_miner_does_not_import_duckdb() -> None:
    """``crypto_observability.log_analyzer.patterns`` alone loads neither DuckDB nor click (exports are lazy)."""
    code = ("import sys, crypto_observability.log_analyzer.patterns; "
            "print(sorted(m for m in ('duckdb', 'click', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_command_group_imports_search_and_store_commands_only_when_named() -> None:
    """``log-analyzer report`` starts without the search and store modules; ``-h`` still lists their commands."""
    code = """import json, sys
from crypto_observability.log_analyzer.cli import main
heavy = ("search_cli", "search_files", "cli_store", "store.loader", "store.connection")
loaded = lambda: [m for m in heavy if "crypto_observability.log_analyzer." + m in sys.modules]
before = loaded()
listed = main.list_commands(None)
main.get_command(None, "trace")
print(json.dumps({"before": before, "listed": listed, "after": loaded()}))"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    seen = json.loads(out.stdout)
    assert seen["before"] == []
    assert {"clickhouse", "search", "trace", "report", "errors"} <= set(seen["listed"])
    assert "search_cli" in seen["after"] and "cli_store" not in seen["after"]
