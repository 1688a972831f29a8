"""Second line of defence: mask anything secret-looking in an example message before it is shown."""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), "<bot-token>"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]+=*"), r"\1 <redacted>"),
    (re.compile(r"(?i)\b(api[_-]?key|apikey|secret|token|password|passwd|signature|x-mbx-apikey)"
                r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;]+)"), r"\1\2<redacted>"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "<email>"),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), "<hex>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<ip>"),
)


def redact(text: str) -> str:
    """Return ``text`` with tokens, keys, passwords, e-mails, long hex ids and IPs masked."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
