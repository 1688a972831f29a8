"""Entry point: `python -m services.telegram_bot.main_with_logging` runs the bot with structured logs.

Settings come from the environment (see docs/telegram_bot.md); a bad one stops the bot at
once with a message naming the variable.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from crypto_observability.shared.logging_config import setup_service_logging
from crypto_observability.shared.settings import ConfigError

from .runner import run_bot
from .settings import BotSettings


def main() -> int:
    """Set up logging, read the settings, run the bot until SIGINT/SIGTERM; return the exit code."""
    log = setup_service_logging("telegram-bot", "main")
    try:
        settings = BotSettings.from_env()
    except ConfigError as exc:
        log.error("telegram bot cannot start: %s", exc)
        print(f"telegram-bot: {exc}", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
            asyncio.run(run_bot(settings))
    except Exception as exc:  # e.g. InvalidToken at getMe: one classified line, not a bare traceback
        log.exception("telegram bot stopped by %s", type(exc).__name__)
        print(f"telegram-bot: stopped by {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
