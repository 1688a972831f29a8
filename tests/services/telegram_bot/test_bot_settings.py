"""BotSettings.from_env: documented defaults, loud errors that name the variable, secrets never echoed."""

from __future__ import annotations

import pytest

from crypto_observability.shared.settings import ConfigError
from services.telegram_bot.settings import BotSettings

TOKEN = "123456:ABC-def_ghi"


def test_defaults_with_only_the_token() -> None:
    """With just a token the bot polls, asks market-data on localhost, allows nobody, 10 commands per 30 s."""
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (settings.mode, settings.api_base_url) == ("polling", None)
    assert settings.market_data_url == "http://127.0.0.1:8000"
    assert settings.allowed_user_ids == frozenset()
    assert (settings.rate_limit_commands, settings.rate_limit_window_s) == (10, 30.0)


def test_every_variable_is_read() -> None:
    """Each documented variable lands in its field, the user list parsed to ints."""
    settings = BotSettings.from_env({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9999/bot",
        "MARKET_DATA_URL": "http://market-data:8000/", "ALLOWED_USER_IDS": " 11, 22,,33 ",
        "RATE_LIMIT_COMMANDS": "3", "RATE_LIMIT_WINDOW_S": "7.5", "BOT_MODE": "Webhook",
        "WEBHOOK_LISTEN": "0.0.0.0", "WEBHOOK_PORT": "8080", "WEBHOOK_URL": "https://bot.example.com/tg",
        "WEBHOOK_SECRET_TOKEN": "s3cret",
    })
    assert settings.api_base_url == "http://127.0.0.1:9999/bot"
    assert settings.market_data_url == "http://market-data:8000"
    assert settings.allowed_user_ids == frozenset({11, 22, 33})
    assert (settings.rate_limit_commands, settings.rate_limit_window_s) == (3, 7.5)
    assert (settings.mode, settings.webhook_listen, settings.webhook_port) == ("webhook", "0.0.0.0", 8080)
    assert (settings.webhook_path, settings.webhook_secret_token) == ("/tg", "s3cret")


def test_missing_token_names_the_variable() -> None:
    """No TELEGRAM_BOT_TOKEN: the error says which variable and what it should look like."""
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env({})
    assert caught.value.variable == "TELEGRAM_BOT_TOKEN"
    assert "BotFather" in str(caught.value)


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("ALLOWED_USER_IDS", "12,alice", "comma-separated list of Telegram user ids"),
    ("RATE_LIMIT_COMMANDS", "0", "positive whole number"),
    ("RATE_LIMIT_WINDOW_S", "soon", "positive number"),
    ("BOT_MODE", "push", "polling, webhook"),
    ("MARKET_DATA_URL", "market-data:8000", "http:// or https:// URL"),
    ("WEBHOOK_PORT", "99999", "1 to 65535"),
])
def test_bad_values_name_variable_value_and_what_is_allowed(variable: str, value: str, allowed: str) -> None:
    """A bad value fails at start-up with the variable, the value and the allowed form."""
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, variable: value})
    assert (caught.value.variable, caught.value.value) == (variable, value)
    assert allowed in str(caught.value)


def test_secrets_are_never_echoed() -> None:
    """A malformed token or webhook secret is described, not printed; repr() hides both."""
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": "not a token at all"})
    assert "not a token" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET_TOKEN": "has spaces!"})
    assert caught.value.variable == "WEBHOOK_SECRET_TOKEN" and "has spaces" not in str(caught.value)
    settings = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET_TOKEN": "s3cret"})
    assert "ABC-def" not in repr(settings) and "s3cret" not in repr(settings)


@pytest.mark.parametrize(("missing", "env"), [
    ("WEBHOOK_URL", {"WEBHOOK_SECRET_TOKEN": "s3cret"}),
    ("WEBHOOK_SECRET_TOKEN", {"WEBHOOK_URL": "https://bot.example.com/tg"}),
])
def test_webhook_mode_needs_url_and_secret(missing: str, env: dict[str, str]) -> None:
    """BOT_MODE=webhook refuses to start without its public URL or without a secret token."""
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_MODE": "webhook", **env})
    assert caught.value.variable == missing
