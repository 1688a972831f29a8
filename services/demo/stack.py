"""Start the whole system as real processes on 127.0.0.1: what the demo and the end-to-end tests share."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .processes import Child, ProcessGroup, StartupError

DEMO_TOKEN = "7351234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"  # made up; must never reach a log line
MEMBERS = list(range(100001, 100011))
STRANGERS = [900001, 900002]


@dataclass
class Stack:
    """Where each piece listens, and its process."""

    exchange_url: str
    telegram_url: str
    market_url: str
    children: dict[str, Child]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready_json(line: str) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("event") == "telegram_simulator_ready" else None


def _listening(line: str) -> str | None:
    match = re.search(r"listening on (http://\S+)", line)
    return match.group(1) if match else None


def _wait_for_polling(bot: Child, telegram_url: str, timeout: float = 30.0) -> None:
    """The bot is ready once it asks the Telegram simulator for updates."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bot.process.poll() is not None:
            raise StartupError(f"telegram-bot exited with {bot.process.returncode}: {bot.stderr_tail()}")
        calls = httpx.get(f"{telegram_url}/_admin/calls", params={"method": "getUpdates"}, timeout=2).json()
        if calls.get("result"):
            return
        time.sleep(0.2)
    raise StartupError(f"telegram-bot never polled for updates in {timeout:.0f} s: {bot.stderr_tail()}")


def start_stack(group: ProcessGroup, *, monitor_config: Path | None = None, monitor_env: dict[str, str] | None = None,
                market_env: dict[str, str] | None = None) -> Stack:
    """Simulators, market-data and telegram-bot (and log-monitor when configured), each ready before the next."""
    exchanges = group.start("exchange-simulator", "services.exchange_simulator", "--port", "0")
    exchange_url = exchanges.wait_for_line(_listening, 30)
    telegram = group.start("telegram-simulator", "services.telegram_simulator", "--port", "0", "--token", DEMO_TOKEN)
    telegram_url = telegram.wait_for_line(_ready_json, 30)["server_url"]
    port = free_port()
    market = group.start("market-data", "services.market_data.main_with_logging", env={
        "PORT": str(port), "EXCHANGE_SIMULATOR_URL": exchange_url, "EXCHANGE_TIMEOUT_MS": "3000", "CACHE_TTL_S": "2",
        **(market_env or {})})
    market_url = f"http://127.0.0.1:{port}"
    group.wait_http(market, f"{market_url}/ready", timeout=60)
    bot = group.start("telegram-bot", "services.telegram_bot.main_with_logging", env={
        "TELEGRAM_BOT_TOKEN": DEMO_TOKEN, "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
        "MARKET_DATA_URL": market_url, "ALLOWED_USER_IDS": ",".join(map(str, MEMBERS))})
    _wait_for_polling(bot, telegram_url)
    children = {"exchange-simulator": exchanges, "telegram-simulator": telegram, "market-data": market,
                "telegram-bot": bot}
    if monitor_config is not None:
        children["log-monitor"] = group.start("log-monitor", "crypto_observability.log_monitor", "run", "--config",
                                              str(monitor_config), env=monitor_env)
    return Stack(exchange_url, telegram_url, market_url, children)
