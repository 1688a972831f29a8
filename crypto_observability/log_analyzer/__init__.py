"""log-analyzer: what broke, since when, for whom, from the JSON log records.

    from crypto_observability.log_analyzer import load, build_dashboard
    ds = load(["logs/"], cache_dir=default_cache_dir()); doc = build_dashboard(ds); ds.close()

The names below are loaded on first use, so importing one submodule (the pattern miner, say)
does not import DuckDB, click and rich.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnalyzerError": "errors_base",
    "Dataset": "engine",
    "EngineSettings": "engine",
    "Filters": "filters",
    "InputError": "errors_base",
    "MalformedLine": "malformed",
    "OptionError": "errors_base",
    "RecordCache": "cache",
    "analyze_errors": "error_patterns",
    "analyze_exchanges": "exchanges",
    "analyze_health": "health",
    "analyze_journeys": "journeys",
    "analyze_performance": "performance",
    "analyze_timeseries": "timeseries",
    "build_dashboard": "dashboard",
    "default_cache_dir": "cache",
    "describe_input": "dashboard",
    "export_csv": "export",
    "load": "engine",
    "main": "cli",
    "mine_templates": "patterns",
    "write_html": "html_report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name from its module the first time it is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crypto_observability.log_analyzer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
