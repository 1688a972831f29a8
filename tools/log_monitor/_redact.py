"""Redact alert text like the logs are redacted: the one place to switch to the shared Redactor."""

from __future__ import annotations

import re
from collections.abc import Callable

try:  # the shared library's Redactor, when it has landed
    from services.shared.redaction import Redactor  # type: ignore[import-not-found,unused-ignore]

    _shared: Callable[[str], str] | None = Redactor().redact_text
except ImportError:  # pragma: no cover - depends on which modules exist
    _shared = None

# LOCAL FALLBACK (used only while services.shared.redaction is missing): bot tokens,
# key=value secrets, bearer tokens and e-mail addresses.
_FALLBACK = re.compile(
    r"(?P<tok>\b\d{6,12}:[A-Za-z0-9_-]{30,}\b)"
    r"|(?P<kv>\b(?:api[_-]?key|secret|token|password|passwd|signature|authorization)\b\s*[=:]\s*)[^\s&,;\"']+"
    r"|(?P<bearer>\bBearer\s+)[A-Za-z0-9._~+/-]+=*"
    r"|(?P<mail>\b[\w.+-]+@[\w-]+\.[\w.-]+\b)",
    re.IGNORECASE,
)


def _fallback(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group("kv"):
            return m.group("kv") + "***"
        if m.group("bearer"):
            return m.group("bearer") + "***"
        return "***"

    return _FALLBACK.sub(repl, text)


def redact(text: str) -> str:
    """Return `text` with secrets and identities masked."""
    return _shared(text) if _shared is not None else _fallback(text)
