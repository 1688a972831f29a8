"""Redact alert text like the logs are redacted: one shared Redactor for labels, summaries and messages.

The salt is the logs' own (LOG_USER_SALT), so a masked user in an alert matches the same user in the logs;
the monitor's own secrets from the environment (SMTP password, webhook URL) are masked too.
"""

from __future__ import annotations

from crypto_observability.shared.redaction import redactor_from_environment

_REDACTOR = redactor_from_environment()


def redact(text: str) -> str:
    """Return `text` with secrets masked and user identities replaced by their keyed hash."""
    return _REDACTOR.redact_text(text)
