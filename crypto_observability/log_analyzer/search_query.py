"""What ``search`` and ``trace`` look for, as plain data, and the one test of a record against it.

A ``SearchQuery`` is engine-free: the file engine (``search_files``) tests parsed records with
``matches`` after a cheap byte pre-filter (``prefilter``); another engine (ClickHouse, later) would
translate the same fields into its own predicate. Terms come from the command line:

    context.exchange=okx   context.response_time_ms>1000   error.category!=rate_limit
    exists:exception       missing:user                    message~^Rate\\s      anything else: free text

Free text and ``--regex`` look at a record's human text: message, module, logger, event and every
string under context, error and exception. Free text ignores ASCII case.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.filters import Filters

RECORD_KEYS = frozenset({
    "timestamp", "service", "module", "level", "message", "context", "docker_container", "git_commit",
    "environment", "performance", "event", "logger", "request_id", "trace_id", "span_id", "user", "error",
    "exception"})
USER_HASH = re.compile(r"u_[0-9a-f]{16}")
_TERM = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*?)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*(?P<value>.*)$", re.DOTALL)
_EXISTS = re.compile(r"^(?P<kind>exists|missing):(?P<key>[A-Za-z_][\w.-]*)$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# characters no JSON layer escapes (ours or Docker's json-file): a needle of these appears verbatim in any file
_VERBATIM = re.compile(r"^[A-Za-z0-9_.:/@+ -]+$")
# an integer as JSON writers write it, whether the value is an int or an integral float (5 and 5.0 both hold "5")
_WRITTEN_INT = re.compile(r"^(0|-?[1-9][0-9]{0,14})$")
MISSING = object()


def fold(text: str) -> str:
    """Lower ASCII letters only, exactly as ``bytes.lower`` does to the UTF-8 of the same text."""
    return text.translate(_ASCII_LOWER)


def lookup(record: Mapping[str, Any], key: str) -> Any:
    """Return the value at a dotted ``key`` (``context.exchange``), or ``MISSING``."""
    node: Any = record
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def human_text(record: Mapping[str, Any]) -> Iterator[str]:
    """Yield the strings free text and ``--regex`` look at."""
    for key in ("message", "module", "logger", "event"):
        value = record.get(key)
        if isinstance(value, str):
            yield value
    for key in ("context", "error", "exception"):
        yield from _strings(record.get(key))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class FieldTerm:
    """One predicate on a key of the record: ``key op value``, or ``exists:``/``missing:`` key."""

    key: str
    op: str  # = != > >= < <= ~ exists missing
    value: str = ""

    @classmethod
    def parse(cls, term: str) -> FieldTerm | None:
        """Return the predicate a command-line term spells, or None when the term is free text."""
        exists = _EXISTS.match(term.strip())
        if exists:
            return cls(exists["key"], exists["kind"])
        match = _TERM.match(term.strip())
        if not match or match["key"].split(".")[0] not in RECORD_KEYS:
            return None
        term_ = cls(match["key"], match["op"], match["value"])
        if term_.op in (">", ">=", "<", "<=") and _number(term_.value) is None and not _looks_like_time(term_.value):
            raise OptionError(f"{term!r}: {term_.op} needs a number (or an ISO time), got {term_.value!r}")
        if term_.op == "~":
            try:
                re.compile(term_.value)
            except re.error as exc:
                raise OptionError(f"{term!r}: not a regular expression: {exc}") from None
        return term_

    def test(self, record: Mapping[str, Any]) -> bool:
        """Say whether the record satisfies this predicate (a missing key satisfies only ``missing``/``!=``)."""
        value = lookup(record, self.key)
        if self.op in ("exists", "missing"):
            return (value is not MISSING and value is not None) == (self.op == "exists")
        if value is MISSING:
            return self.op == "!="
        if self.op == "~":
            return isinstance(value, str) and re.search(self.value, value) is not None
        if self.op in ("=", "!="):
            return _equal(value, self.value) == (self.op == "=")
        return _compare(value, self.op, self.value)

    def needle(self) -> str | None:
        """Return text every matching line holds verbatim (for the byte pre-filter), if there is one."""
        if self.op == "=" and self.value and _VERBATIM.match(self.value):
            return self.value if _written_as_is(self.value) else None
        if self.op == "exists" and _VERBATIM.match(self.key.split(".")[-1]):
            return self.key.split(".")[-1]
        return None


def _written_as_is(text: str) -> bool:
    """Say whether every value ``_equal`` accepts for ``text`` is written with ``text`` in it.

    Not so for the other spellings of a boolean or null (TRUE matches true; none matches null) nor for numbers
    written otherwise (5.0 matches 5; 1e3 matches 1000).
    """
    if text.lower() in ("true", "false", "null", "none"):
        return text in ("true", "false", "null")
    number = _number(text)
    if number is None:
        return True
    if _WRITTEN_INT.match(text):
        return True
    return abs(number) < 1e15 and repr(number) == text and number != int(number)  # 5.5, written shortest


def _looks_like_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _equal(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text.lower() == ("true" if value else "false")
    if value is None:
        return text.lower() in ("null", "none", "")
    if isinstance(value, int | float):
        number = _number(text)
        return number is not None and float(value) == number
    if isinstance(value, list):
        return any(_equal(item, text) for item in value)
    return str(value) == text


def _compare(value: Any, op: str, text: str) -> bool:
    number = _number(text)
    left: Any
    right: Any
    if number is not None and isinstance(value, int | float) and not isinstance(value, bool):
        left, right = float(value), number
    elif number is None and isinstance(value, str):
        left, right = value, text  # ISO times of one format compare as text
    else:
        return False
    return bool({">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op])


def _iso_ms(moment: datetime, round_up: bool) -> str:
    """Render a bound as the records' timestamp text; records are whole milliseconds, so round up a fraction."""
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user_hashes(values: Sequence[str], environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Turn ``--user`` values into the hashes the logs hold: a hash stays, a raw id or username is hashed.

    Raw values are hashed with the library's own keyed hash and ``LOG_USER_SALT``, the salt the services
    log with; a username is tried with and without its ``@``.
    """
    env = os.environ if environ is None else environ
    out: list[str] = []
    for value in values:
        text = value.strip()
        if USER_HASH.fullmatch(text):
            out.append(text)
            continue
        salt = env.get("LOG_USER_SALT")
        if not salt:
            raise OptionError(f"--user {value!r} is not a hash (u_ + 16 hex digits) and LOG_USER_SALT is not set: "
                              "set it to the services' salt to look up a raw Telegram id or username")
        from crypto_observability.shared.redaction import Redactor

        redactor = Redactor(user_salt=salt)
        out += [redactor.mask_user(raw) for raw in dict.fromkeys((text, text.lstrip("@"))) if raw]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class SearchQuery:
    """Every filter of a search; empty fields restrict nothing, all given fields must hold."""

    filters: Filters = field(default_factory=Filters)
    request_ids: tuple[str, ...] = ()
    users: tuple[str, ...] = ()  # hashes, as in the logs
    events: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    regexes: tuple[re.Pattern[str], ...] = ()
    terms: tuple[FieldTerm, ...] = ()

    @classmethod
    def parse(cls, filters: Filters, *, request_ids: Sequence[str] = (), users: Sequence[str] = (),
              events: Sequence[str] = (), words: Sequence[str] = (), texts: Sequence[str] = (),
              regexes: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> SearchQuery:
        """Build a query from command-line values; ``words`` are predicates where they parse as one, else text."""
        terms, free = [], list(texts)
        for word in words:
            term = FieldTerm.parse(word)
            if term is None:
                free.append(word)
            else:
                terms.append(term)
        compiled = []
        for pattern in regexes:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise OptionError(f"--regex {pattern!r}: not a regular expression: {exc}") from None
        return cls(filters, tuple(request_ids), user_hashes(users, environ), tuple(events),
                   tuple(t for t in free if t), tuple(compiled), tuple(terms))

    @property
    def since_text(self) -> str | None:
        """Return ``--since`` as timestamp text (records at or after it match)."""
        return _iso_ms(self.filters.since, True) if self.filters.since else None

    @property
    def until_text(self) -> str | None:
        """Return ``--until`` as timestamp text (records before it match)."""
        return _iso_ms(self.filters.until, True) if self.filters.until else None

    def in_time(self, timestamp: str) -> bool:
        """Say whether a record's timestamp text is inside the window."""
        since, until = self.since_text, self.until_text
        return (since is None or timestamp >= since) and (until is None or timestamp < until)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Say whether one parsed record satisfies every filter (the one definition of a match)."""
        f = self.filters
        timestamp = record.get("timestamp")
        if (f.since or f.until) and not (isinstance(timestamp, str) and self.in_time(timestamp)):
            return False
        if f.services and record.get("service") not in f.services:
            return False
        if f.levels and record.get("level") not in f.levels:
            return False
        if self.request_ids and record.get("request_id") not in self.request_ids:
            return False
        if self.events and record.get("event") not in self.events:
            return False
        if self.users and not any(u in text for text in _strings(record) for u in self.users):
            return False
        if self.texts or self.regexes:
            text = list(human_text(record))
            folded = [fold(t) for t in text] if self.texts else []
            if not all(any(fold(needle) in t for t in folded) for needle in self.texts):
                return False
            if not all(any(rx.search(t) for t in text) for rx in self.regexes):
                return False
        return all(term.test(record) for term in self.terms)

    def prefilter(self, wrapped: bool) -> tuple[tuple[tuple[bytes, ...], ...], tuple[bytes, ...]]:
        """Return the byte tests every matching line passes: (groups of which one must occur, folded needles).

        The groups are ordered most selective first. ``wrapped`` (Docker json-file lines, a second layer of
        JSON escaping) keeps only needles no layer escapes.
        """
        groups: list[tuple[bytes, ...]] = []

        def add(values: Sequence[str], key: str | None = None) -> None:
            if not values:
                return
            if not wrapped and key is not None:
                groups.append(tuple(f'"{key}":'.encode() + orjson.dumps(v) for v in values))
            elif all(_VERBATIM.match(v) for v in values):
                groups.append(tuple(v.encode() for v in values))

        add(self.request_ids)  # the bare id: found whatever the spacing around its key
        add(self.users)
        for term in self.terms:
            needle = term.needle()
            if needle is not None:
                add([needle])
        add(self.events, "event")
        add(list(self.filters.services), "service")
        add(list(self.filters.levels), "level")
        folded = tuple(fold(orjson.dumps(t).decode()[1:-1]).encode() for t in self.texts
                       if not wrapped or _VERBATIM.match(t))
        return tuple(groups), folded

