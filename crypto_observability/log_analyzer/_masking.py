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
_MAC = rf"{_HEX}{{2}}(?:[:-]{_HEX}{{2}}){{3,}}\b"

# the rest of a number-like word: letters, digits, joiners followed by more, ":" before a digit
_RUN = r"(?:[A-Za-z0-9]|[_.-]++(?=[A-Za-z0-9])|:(?=\d))*+"
_UNIT = r"(?:[KMGTP]i?B|bytes|B|ms|us|ns|sec|secs|mins?|hrs?)"

# Rules grouped by the first character of the value; inside a group the first rule that matches
# wins, so longer shapes come first. Every value starts at a word start (not after a letter or digit).
_DIGIT_RULES: tuple[tuple[str, str], ...] = (
    ("mac", _MAC),
    ("iso_time", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),
    # numbers, hex (0x..), dotted addresses, versions, times, ids like 12ab-34: up to the next
    # separator, a spaced unit included ("2.65 KB", "12 ms") and a restated size ("(1.86 KB)").
    ("number", rf"\d{_RUN}(?:\s{_UNIT}\b(?:\s\([^()\s]+\s?{_UNIT}\))?)?"),
)
_LETTER_RULES: tuple[tuple[str, str], ...] = (
    ("url", r"[A-Za-z][A-Za-z0-9+.-]*+://[^\s\"'<>()\[\]{}]+"),
    ("ctime", rf"{_WEEKDAY},?\s+{_MONTH}\s+\d{{1,2}},?\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s+[A-Z]{{3}})?"
              r"(?:\s+\d{4})?"),
    ("uuid", rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b"),
    ("kv_value", r"(?<=\w=)[^\s,;)\]}'\"]+"),
    ("quoted", r"(?<=')[^'\s]+(?=')|(?<=\")[^\"\s]+(?=\")"),
    ("host_port", r"(?<![\w.-])[A-Za-z][\w-]*+(?:\.[\w-]++)++:\d{1,5}\b"),
    ("mac", _MAC),
    ("snake_id", r"[A-Za-z][A-Za-z0-9]*+(?:_[A-Za-z][A-Za-z0-9]*+)*+_-?\d[\w-]*+"),
    ("hex_id", rf"(?=[a-fA-F]*+\d)(?=\d*+[a-fA-F]){_HEX}{{8,}}\b"),
)
# a hex id after a word and a hyphen (req-ec197ad3b13c): the costly rules skip mid-word starts
_SUFFIX_HEX_ID = rf"(?<=[A-Za-z]-)(?=[a-fA-F]*+\d)(?=\d*+[a-fA-F]){_HEX}{{8,}}\b"
_OTHER_RULES: tuple[tuple[str, str], ...] = (
    ("path", r"(?<![\w/.:])\.{0,2}(?:/+[\w.@%+~,=-]*[\w.@%+~=-])+/*(?::\d+\b)?"),
    ("signed_number", rf"[-+<>~]\d{_RUN}(?:\s{_UNIT}\b)?"),
    ("quoted_other", r"(?<=')[^'\s]+(?=')|(?<=\")[^\"\s]+(?=\")"),
)


def _alternation(rules: tuple[tuple[str, str], ...]) -> str:
    """Join rules into one non-capturing alternation."""
    return "|".join(f"(?:{pattern})" for _, pattern in rules)


_FAST_FAIL = ("ctime", "kv_value", "quoted")


def _letter_alternation() -> str:
    """Letter-start rules; the costly ones only run on words holding a digit or a colon."""
    cheap = [(n, p) for n, p in _LETTER_RULES if n in _FAST_FAIL]
    costly = [(n, p) for n, p in _LETTER_RULES if n not in _FAST_FAIL]
    # only at the start of a whole word (not after _ . + -), and only if a digit or colon follows
    # before the next separator: possessive scans, so plain words cost one pass each
    return (f"{_alternation(tuple(cheap))}|{_SUFFIX_HEX_ID}"
            f"|(?<![_.+-])(?=[A-Za-z_.+-]*+[\\d:])(?:{_alternation(tuple(costly))})")


# The leading checks let the scan skip mid-word positions and dispatch on the first character.
_MASK = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    rf"(?=\d)(?:{_alternation(_DIGIT_RULES)})"
    rf"|(?=[A-Za-z])(?:{_letter_alternation()})"
    rf"|(?![A-Za-z0-9\s])(?:{_alternation(_OTHER_RULES)})"
    ")"
)


def mask(message: str) -> str:
    """Replace every value-shaped span of ``message`` with ``<*>`` so siblings compare equal."""
    return _MASK.sub(VARIABLE, message)


def rule_names() -> list[str]:
    """Name the masking rules in the order they are tried (for documentation and tests)."""
    return [name for rules in (_DIGIT_RULES, _LETTER_RULES, _OTHER_RULES) for name, _ in rules]
