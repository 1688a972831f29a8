"""Secrets configured in the environment are masked wherever they show up, whatever their shape."""

from __future__ import annotations

import logging

import pytest

from crypto_observability.shared.logging_config import setup_service_logging
from crypto_observability.shared.redaction import secrets_from_environment
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs

SHORT_TOKEN = "123456789:TEST-TOKEN-short-24chars"  # too short for the generic Telegram-token pattern
EXCHANGE_KEY = "Zq8rT2vX9wK4mN7pL1sD3fG6hJ0"


def test_secret_named_variables_are_collected() -> None:
    """…_TOKEN, …_API_KEY, …_SECRET and the user salt are secrets; ordinary settings are not."""
    env = {"TELEGRAM_BOT_TOKEN": SHORT_TOKEN, "BINANCE_API_KEY": EXCHANGE_KEY, "LOG_USER_SALT": "pepper-123",
           "LOG_DIR": "/app/logs", "GIT_COMMIT": "c182b71f", "EMPTY_SECRET": ""}
    assert sorted(secrets_from_environment(env)) == sorted([SHORT_TOKEN, EXCHANGE_KEY, "pepper-123"])


def test_configured_values_are_masked_in_bare_text_on_every_road(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare token in an exception message or a third-party line never reaches a record."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SHORT_TOKEN)
    monkeypatch.setenv("BINANCE_API_KEY", EXCHANGE_KEY)
    monkeypatch.setenv("LOG_USER_SALT", "pepper-and-salt")
    with capture_logs("INFO") as logs:
        slog = create_structured_logger("telegram-bot", "main")
        try:
            raise ValueError(f"Invalid token {SHORT_TOKEN} was rejected")
        except ValueError:
            slog.exception("start-up failed")
        logging.getLogger("telegram.ext.Application").warning("retrying with %s", SHORT_TOKEN)
        setup_service_logging("telegram-bot", "main").info("key in use", extra={"context": {"note": EXCHANGE_KEY}})
        slog.info("salt is pepper-and-salt")
    text = "\n".join(line.decode() for line in logs.lines)
    for secret in (SHORT_TOKEN, EXCHANGE_KEY, "pepper-and-salt"):
        assert secret not in text
    assert text.count("***") >= 4
