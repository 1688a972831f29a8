"""Mask an example message before it is shown, with the logs' own Redactor (crypto_observability.shared.redaction).

Not a second rule set: the same secrets are masked and the same users hashed (LOG_USER_SALT) as in the
logs, and a long message costs only the bounded part the Redactor scans.
"""

from __future__ import annotations

from crypto_observability.shared.redaction import redactor_from_environment

_REDACTOR = redactor_from_environment()


def redact(text: str) -> str:
    """Return ``text`` with secrets masked and user identities replaced by their keyed hash."""
    return _REDACTOR.redact_text(text)
