"""The bot's settings, read once from the environment, validated and frozen.

Secrets (the bot token, the webhook secret) come from the environment only, never appear
in repr() or in an error message: a bad secret is described, not echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crypto_observability.shared.settings import ConfigError

MODES = ("polling", "webhook")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts for secret_token
_HIDDEN = "<hidden>"


@dataclass(frozen=True, slots=True)
class BotSettings:
    """Everything the bot needs to start, with the documented defaults."""

    token: str = field(repr=False)
    api_base_url: str | None = None
    market_data_url: str = "http://127.0.0.1:8000"
    allowed_user_ids: frozenset[int] = frozenset()
    rate_limit_commands: int = 10
    rate_limit_window_s: float = 30.0
    mode: str = "polling"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_url: str | None = None
    webhook_secret_token: str | None = field(default=None, repr=False)
    market_data_timeout_s: float = 10.0
    heartbeat_file: str | None = None  # touched while the bot serves updates: the container's liveness probe

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BotSettings:
        """Read and validate every bot setting; raise ConfigError naming the first bad one."""
        env = os.environ if environ is None else environ
        mode = _choice(env, "BOT_MODE", "polling", MODES)
        settings = cls(
            token=_token(env.get("TELEGRAM_BOT_TOKEN")),
            api_base_url=_optional_url(env, "TELEGRAM_API_BASE_URL"),
            market_data_url=_url(env, "MARKET_DATA_URL", "http://127.0.0.1:8000").rstrip("/"),
            allowed_user_ids=_user_ids(env.get("ALLOWED_USER_IDS", "")),
            rate_limit_commands=int(_number(env, "RATE_LIMIT_COMMANDS", "10", integer=True)),
            rate_limit_window_s=_number(env, "RATE_LIMIT_WINDOW_S", "30"),
            mode=mode,
            webhook_listen=env.get("WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=_port(env.get("WEBHOOK_PORT") or "8443"),
            webhook_url=_optional_url(env, "WEBHOOK_URL"),
            webhook_secret_token=_secret(env.get("WEBHOOK_SECRET_TOKEN")),
            market_data_timeout_s=_number(env, "MARKET_DATA_TIMEOUT_S", "10"),
            heartbeat_file=env.get("BOT_HEARTBEAT_FILE") or None,
        )
        if mode == "webhook":
            settings.check_webhook()
        return settings

    def check_webhook(self) -> None:
        """Webhook mode needs the public URL and a secret token; say which one is missing."""
        if not self.webhook_url:
            raise ConfigError("WEBHOOK_URL", "", "the public https URL Telegram posts updates to (BOT_MODE=webhook)")
        if not self.webhook_secret_token:
            raise ConfigError("WEBHOOK_SECRET_TOKEN", "", "a secret of 1-256 letters, digits, _ or - "
                              "(BOT_MODE=webhook refuses to run without one)")

    @property
    def webhook_path(self) -> str:
        """The path part of WEBHOOK_URL, where the local webhook server listens."""
        return urlsplit(self.webhook_url or "").path or "/"


def _token(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise ConfigError("TELEGRAM_BOT_TOKEN", "", "the token BotFather gave the bot, like 123456789:AAE...")
    token = raw.strip()
    if not _TOKEN.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN", _HIDDEN, "digits, a colon, then letters, digits, _ or -")
    return token


def _secret(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if not _SECRET.match(raw):
        raise ConfigError("WEBHOOK_SECRET_TOKEN", _HIDDEN, "1-256 characters, each a letter, digit, _ or -")
    return raw


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, raw, "an http:// or https:// URL with a host, like http://127.0.0.1:8000")
    return raw


def _optional_url(env: Mapping[str, str], name: str) -> str | None:
    return _url(env, name, "") if env.get(name) else None


def _user_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError("ALLOWED_USER_IDS", raw, "a comma-separated list of Telegram user ids, like 1234,5678")
        ids.add(int(part))
    return frozenset(ids)


def _number(env: Mapping[str, str], name: str, default: str, *, integer: bool = False) -> float:
    raw = env.get(name) or default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        kind = "a positive whole number" if integer else "a positive number"
        raise ConfigError(name, raw, kind)
    return float(value)


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError("WEBHOOK_PORT", raw, "a TCP port number from 1 to 65535")
    return int(raw)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name) or default
    if raw.strip().lower() not in allowed:
        raise ConfigError(name, raw, "one of " + ", ".join(allowed))
    return raw.strip().lower()
