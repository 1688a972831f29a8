"""LOG_FORMAT=console: one readable line per record for a person at a terminal."""

from __future__ import annotations

import io

from crypto_observability.shared.console import render_console
from crypto_observability.shared.logging_config import ensure_pipeline, shutdown_logging
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger

RECORD = {"timestamp": "2025-01-15T10:30:00.123Z", "service": "market-data", "module": "oi", "level": "ERROR",
          "message": "OI aggregation failed", "context": {"symbol": "BTC-USDT", "exchanges_count": 6},
          "request_id": "r-1", "error": {"type": "RequestTimeout", "category": "timeout", "severity": "medium"},
          "exception": {"type": "RequestTimeout", "message": "okx",
                        "stacktrace": "Traceback...\nRequestTimeout: okx\n"}}


def test_plain_rendering_shows_time_level_service_message_fields_and_stack() -> None:
    """Without colour: the time, level, where, the message, key=value fields, then the indented trace."""
    text = render_console(RECORD, colour=False).decode()
    first, *trace = text.rstrip("\n").splitlines()
    assert first.startswith("10:30:00.123 ERROR    market-data oi  OI aggregation failed")
    assert "symbol=BTC-USDT" in first and "request_id=r-1" in first and "error=timeout/medium" in first
    assert trace == ["    Traceback...", "    RequestTimeout: okx"]


def test_colour_only_adds_escape_codes() -> None:
    """The coloured line says the same once the ANSI codes are taken out."""
    import re

    coloured = render_console(RECORD, colour=True).decode()
    assert "\x1b[31m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_console(RECORD, colour=False).decode()


def test_console_format_on_stdout_while_files_stay_json(tmp_path: object) -> None:
    """LOG_FORMAT=console changes stdout only; the file a collector reads is still JSON."""
    stream = io.BytesIO()
    ensure_pipeline(LogSettings(log_dir=tmp_path, format="console", monitoring=False), console=stream)  # type: ignore[arg-type]
    create_structured_logger("market-data", "oi").info("hello", symbol="ETH-USDT")
    shutdown_logging()
    assert b"hello  symbol=ETH-USDT" in stream.getvalue() and not stream.getvalue().startswith(b"{")
    assert (tmp_path / "market-data.log").read_bytes().startswith(b'{"timestamp"')  # type: ignore[operator]
