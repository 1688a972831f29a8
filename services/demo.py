"""`make demo`: give market-data and telegram-bot structured logs and show what comes out.

Emits a representative mix of events through both roads (the stdlib logger and the
StructuredLogger), a third-party library's record, an exception and a secret, then prints
where the files are and a few of their lines pretty-printed, the secret visibly masked.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import orjson

from services.shared.context import bound_context
from services.shared.logging_config import setup_service_logging, shutdown_logging
from services.shared.structured_logger import create_structured_logger

DEMO_BOT_TOKEN = "7351234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"  # a made-up token that must never appear
DEMO_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def emit_demo_events() -> None:
    """Log what a minute of the two services looks like, secrets included."""
    market = setup_service_logging("market-data", "unified_oi_aggregator")
    market.info("OI aggregation completed", extra={"context": {
        "symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 1234.0, "total_oi_usd": 1500000000}})
    exchange = create_structured_logger("market-data", "exchange_client")
    bot = create_structured_logger("telegram-bot", "command_handler")
    with bound_context(request_id="4f1c2a9e0b7d4e3f8a6b5c4d3e2f1a0b", user=123456789):
        bot.info("Command received", command="/price", symbol="BTC")
        exchange.info("Exchange API call", exchange="binanceusdm", method="fetch_ticker", symbol="BTC/USDT:USDT",
                      success=True, response_time_ms=87.4)
        exchange.warning("Rate limit hit", exchange="bybit", retry_after=2.0,
                         headers={"X-MBX-APIKEY": DEMO_API_KEY}, api_key=DEMO_API_KEY)
        bot.info("Command executed", command="/price", success=True, response_time_ms=212.9)
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://api.telegram.org/bot%s/sendMessage "HTTP/1.1 200 OK"', DEMO_BOT_TOKEN)
    try:
        raise ConnectionError(f"could not reach https://user:hunter2@db.internal:5432 with token {DEMO_BOT_TOKEN}")
    except ConnectionError:
        market.exception("Cache backend unavailable", extra={"context": {"backend": "redis"}})
    bot.error("Market data request failed", command="/oi", symbol="SOL", status_code=503, success=False)


def show(log_dir: Path, per_file: int = 3) -> int:
    """Print the files and a few records of each, pretty; return how many secrets leaked (0)."""
    from rich.console import Console
    from rich.syntax import Syntax

    console = Console()
    leaks = 0
    for path in sorted(log_dir.glob("*.log")):
        raw = path.read_bytes()
        leaks += sum(secret.encode() in raw for secret in (DEMO_BOT_TOKEN, DEMO_API_KEY, "hunter2"))
        lines = raw.splitlines()
        console.rule(f"[bold]{path}[/] ({len(lines)} lines, mode {oct(path.stat().st_mode & 0o777)})")
        picks = [line for line in lines if b"api_key" in line or b'"ERROR"' in line][:per_file] or lines[:per_file]
        for line in picks:
            text = orjson.dumps(orjson.loads(line), option=orjson.OPT_INDENT_2).decode()
            console.print(Syntax(text, "json", theme="ansi_dark", word_wrap=True))
    verdict = "[green]no secret reached the files[/]" if not leaks else f"[red]{leaks} secret(s) leaked[/]"
    console.print(f"\nLogs are in [bold]{log_dir.resolve()}[/]: {verdict}")
    return leaks


def main() -> int:
    """Run the demo and return a process exit code."""
    log_dir = Path(os.environ.setdefault("LOG_DIR", "logs/demo"))
    os.environ.setdefault("LOG_CONSOLE", "false")
    os.environ.setdefault("LOG_USER_SALT", "demo-salt-change-me")
    for old in log_dir.glob("*.log*"):
        old.unlink()
    emit_demo_events()
    shutdown_logging()
    return 1 if show(log_dir) else 0


if __name__ == "__main__":
    sys.exit(main())
