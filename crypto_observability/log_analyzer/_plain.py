"""Log text is data: shown as it is, never obeyed (no markup, no terminal control sequences)."""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls (ESC starts terminal sequences), bidi overrides and line separators
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(value: Any) -> str:
    """Return ``value`` as one line of text, control, bidi and line-breaking characters replaced by U+FFFD."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value)).replace("\n", " ")
