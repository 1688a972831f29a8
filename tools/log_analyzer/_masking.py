"""Mask the values every log line carries (numbers, ids, addresses, paths) before clustering.

One compiled alternation, applied with a plain string replacement, so masking costs one C-level
pass per distinct message. The rules are generic value shapes, never words of a given system.
"""

from __future__ import annotations

import re

VARIABLE = "<*>"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_HEX = r"[0-9a-fA-F]"

# Order matters: at one position the first rule that matches wins, so longer shapes come first.
_RULES: tuple[tuple[str, str], ...] = (
    ("url", r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>()\[\]{}]+"),
    ("ctime", rf"\b{_WEEKDAY},?\s+{_MONTH}\s+\d{{1,2}},?\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s+[A-Z]{{3}})?"
              r"(?:\s+\d{4})?"),
    ("iso_time", r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),
    ("uuid", rf"\b{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b"),
    ("kv_value", r"(?<=\w=)[^\s,;)\]}'\"]+"),
    ("host_port", r"(?<![\w.-])[A-Za-z][\w-]*(?:\.[\w-]+)+:\d{1,5}\b"),
    ("path", r"(?<![\w/.:])(?:\.{1,2})?(?:/[\w.@%+~,=-]*[\w.@%+~=-])+/?"),
    ("hex_id", rf"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F]){_HEX}{{8,}}\b"),
    ("size", r"(?<![A-Za-z0-9])\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|bytes|B)\b"
             r"(?:\s\([^()\s]+\s?[KMGTP]i?B\))?"),
    ("duration", r"(?<![A-Za-z0-9])[<>~]?\d+(?:\.\d+)?\s?(?:ms|us|ns|sec|secs|mins?|hrs?)\b"),
    ("number", r"(?<![A-Za-z0-9])[-+<>~]?\d(?:(?:[\w.-]|:(?=\d))*[A-Za-z0-9])?"),
    ("quoted", r"(?<=')[^'\s]+(?=')|(?<=\")[^\"\s]+(?=\")"),
)

_MASK = re.compile("|".join(f"(?:{pattern})" for _, pattern in _RULES))


def mask(message: str) -> str:
    """Replace every value-shaped span of ``message`` with ``<*>`` so siblings compare equal."""
    return _MASK.sub(VARIABLE, message)


def rule_names() -> list[str]:
    """Name the masking rules in the order they are tried (for documentation and tests)."""
    return [name for name, _ in _RULES]
