"""The library's public surface is small, sorted, and every name in it resolves."""

from __future__ import annotations

import subprocess
import sys

import crypto_observability.shared

EXPECTED = [
    "CapturedLogs", "ConfigError", "FakeClock", "LogSettings", "Redactor", "StructuredLogger", "bind_context",
    "bound_context", "capture_logs", "classify", "clear_context", "create_structured_logger", "error_info",
    "fingerprint", "get_context", "parse_traceparent", "setup_service_logging", "shutdown_logging",
    "submit_with_context", "unbind_context", "uvicorn_log_config", "with_context",
]


def test_all_is_exactly_the_documented_names_sorted() -> None:
    """Adding or dropping a public name is a decision this test makes visible."""
    assert crypto_observability.shared.__all__ == sorted(EXPECTED)
    for name in EXPECTED:
        assert getattr(crypto_observability.shared, name) is not None


def test_the_core_imports_without_the_heavy_integrations() -> None:
    """Importing the library loads neither FastAPI, telegram, ccxt nor DuckDB."""
    code = ("import sys, crypto_observability.shared.logging_config, crypto_observability.shared.structured_logger, "
            "crypto_observability.shared.exchange_logger, crypto_observability.shared.asgi;"
            "print(sorted(m for m in ('fastapi', 'telegram', 'ccxt', 'duckdb', 'starlette') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
