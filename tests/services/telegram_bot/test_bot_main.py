"""The real entry point as a process: starts, answers, logs to its file, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from crypto_observability.shared.testing import validate_record
from services.telegram_simulator import SimulatedUser, TelegramSimulator

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ["-m", "services.telegram_bot.main_with_logging"]


def bot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A clean environment for the bot process, logging JSON to tmp_path."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PTB_TIMEDELTA")}
    return {**keep, "LOG_DIR": str(tmp_path), "LOG_FORMAT": "json", "LOG_CONSOLE": "false",
            "MONITORING_ENABLED": "false", "PYTHONPATH": str(ROOT), **values}


async def test_missing_token_stops_with_a_clear_message(tmp_path: Path) -> None:
    """Without TELEGRAM_BOT_TOKEN the process exits 2 naming the variable, on stderr and in the log."""
    proc = await asyncio.create_subprocess_exec(sys.executable, *ENTRY, env=bot_env(tmp_path), cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in stderr.decode()
    records = [json.loads(line) for line in (tmp_path / "telegram-bot.log").read_text().splitlines()]
    assert any("TELEGRAM_BOT_TOKEN" in r["message"] and r["level"] == "ERROR" for r in records)


async def test_process_answers_then_stops_cleanly_on_sigterm(
    tmp_path: Path, sim: TelegramSimulator, market: Any, alice: SimulatedUser
) -> None:
    """The real entry point answers /price through the simulator, exits 0 on SIGTERM, and its log file is clean."""
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=sim.token, TELEGRAM_API_BASE_URL=sim.base_url,
                  MARKET_DATA_URL=market.url, ALLOWED_USER_IDS=str(alice.id))
    proc = await asyncio.create_subprocess_exec(sys.executable, *ENTRY, env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        sim.send_command(alice, "/price btc")
        [reply] = await sim.wait_for_reply(alice.id, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert reply["text"].startswith("💰 BTC-USDT price")
    assert proc.returncode == 0, stderr.decode()[-2000:]
    text = (tmp_path / "telegram-bot.log").read_text()
    assert sim.token.split(":", 1)[1] not in text
    records = [json.loads(line) for line in text.splitlines()]
    for record in records:
        validate_record(record)
    messages = [r["message"] for r in records if r["module"] == "bot"]
    assert messages[0] == "telegram bot configured" and messages[-1] == "telegram bot stopped"
    assert [r["request_id"] for r in records if r.get("event") == "market_data_response"] == \
        [r["request_id"] for r in market.received]


async def test_rejected_token_stops_with_a_classified_error(tmp_path: Path, sim: TelegramSimulator) -> None:
    """A token Telegram refuses ends the process with exit 1 and one ERROR line classified auth, token masked."""
    wrong = "999999:AAWRONG-token-value_0123456789abcdef"  # BotFather's shape: 35 characters after the colon
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=sim.base_url)
    proc = await asyncio.create_subprocess_exec(sys.executable, *ENTRY, env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 1 and "InvalidToken" in stderr.decode()
    text = (tmp_path / "telegram-bot.log").read_text()
    assert wrong.split(":", 1)[1] not in text
    errors = [r for r in map(json.loads, text.splitlines()) if r["level"] == "ERROR"]
    assert [e["error"]["category"] for e in errors if e["module"] == "main"] == ["auth"]
