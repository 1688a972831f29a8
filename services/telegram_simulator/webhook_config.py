"""The webhook as setWebhook configures it and getWebhookInfo reports it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class WebhookConfig:
    """Where updates are pushed instead of waiting for getUpdates; url "" means polling."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0  # bumped on every set/clear so a waiting retry notices a new configuration

    def set(self, url: str, secret_token: str | None, max_connections: int, ip_address: str | None) -> None:
        """Validate and apply setWebhook's parameters (http is allowed: this is a loopback stand-in)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if secret_token is not None and not _SECRET.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self.url, self.secret_token = url, secret_token
        self.max_connections, self.ip_address = max_connections, ip_address
        self.last_error_date = self.last_error_message = None
        self.version += 1

    def clear(self) -> None:
        """Remove the webhook: updates wait for getUpdates again."""
        self.url, self.secret_token, self.ip_address = "", None, None
        self.last_error_date = self.last_error_message = None
        self.version += 1

    def info(self, pending_update_count: int) -> dict[str, Any]:
        """Render the WebhookInfo object."""
        out: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending_update_count,
        }
        if self.url:
            out["max_connections"] = self.max_connections
            if self.ip_address:
                out["ip_address"] = self.ip_address
            if self.allowed_updates:
                out["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out
