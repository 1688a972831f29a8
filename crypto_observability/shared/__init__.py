"""The logging library every crypto-assistant service imports.

    from crypto_observability.shared.logging_config import setup_service_logging
    from crypto_observability.shared.structured_logger import create_structured_logger

Imports with the standard library, orjson and psutil alone; FastAPI, telegram and ccxt
integrations live in leaf modules that import them only when used. The names below are
loaded on first use, so importing one submodule does not import them all.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CapturedLogs": "testing",
    "ConfigError": "settings",
    "FakeClock": "testing",
    "LogSettings": "settings",
    "Redactor": "redaction",
    "StructuredLogger": "structured_logger",
    "bind_context": "context",
    "bound_context": "context",
    "capture_logs": "testing",
    "classify": "errors",
    "clear_context": "context",
    "create_structured_logger": "structured_logger",
    "error_info": "errors",
    "fingerprint": "errors",
    "get_context": "context",
    "parse_traceparent": "context",
    "setup_service_logging": "logging_config",
    "shutdown_logging": "logging_config",
    "submit_with_context": "context",
    "unbind_context": "context",
    "uvicorn_log_config": "logging_config",
    "with_context": "context",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name from its module the first time it is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crypto_observability.shared' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
