"""Redact alert text like the logs are redacted: one shared Redactor for labels, summaries and messages.

The salt is the logs' own (LOG_USER_SALT), so a masked user in an alert matches the same user in the logs.
"""

from __future__ import annotations

import os

from services.shared.redaction import Redactor

_REDACTOR = Redactor(user_salt=os.environ.get("LOG_USER_SALT") or None)


def redact(text: str) -> str:
    """Return `text` with secrets masked and user identities replaced by their keyed hash."""
    return _REDACTOR.redact_text(text)
