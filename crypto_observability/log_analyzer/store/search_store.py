"""Search the central store: the same ``SearchQuery``, narrowed in ClickHouse first, judged in Python.

``SearchQuery.matches`` stays the one definition of a match. From the query this module derives a server-side
prefilter that keeps at least every record the matcher accepts (``prefilter``); the kept records come back whole
(``Record``, the line as it was written) in time order, page by page, and the matcher decides on each, as it does on
the lines of a file. A term the prefilter cannot narrow safely is left to the matcher: the answer stays right, only
slower. What is narrowed, and why each is a superset:

    --since/--until      Timestamp, the record's instant; the matcher compares the timestamp text, which for the
                         library's own form (UTC, milliseconds, Z) orders exactly as the instant does
    --service/--level    ServiceName, SeverityText (the sort key): the record's strings themselves
    --request-id         RequestId (bloom filter index); --event: Event
    --user               the hash anywhere in the record (search finds a user in any string, not only ``user``,
                         so the UserHash index alone would miss records)
    free text            the words anywhere in the record, ASCII case ignored, when they hold only characters
                         no JSON writer escapes (letters, digits, space, _ . : @ + -)
    KEY=VALUE            service/level/message by their columns; another key by ``"VALUE"`` in the record, when
                         VALUE is such plain text and not a number, boolean or null (which the matcher also
                         accepts in other spellings); exists:KEY by ``"KEY"`` in the record
    context.KEY>N        (and >=, <, <=) LogAttributes[KEY] as a number, the bound widened by a billionth

``!=``, ``~``, ``missing:``, ``--regex`` and comparisons of nested keys or of times are not narrowed. Plain
text is narrowed only when it holds no character a writer may escape: Fluent Bit re-encodes each record, escaping
non-ASCII characters (and some writers ``/``). The typed columns hold a key's first copy, the matcher sees its
last, when a record repeats a key; our library never writes such records.
Records of the same instant come in the order of their service, then the order they were stored (``InsertSeq``,
schema version 4): the file road's order when the files were loaded with ``clickhouse load``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from crypto_observability.log_analyzer.errors_base import AnalyzerError
from crypto_observability.log_analyzer.search_files import Hit
from crypto_observability.log_analyzer.search_query import FieldTerm, SearchQuery, _number
from crypto_observability.log_analyzer.store.connection import StoreAddress, connect, parse_store_url
from crypto_observability.log_analyzer.store.migrations import applied_versions

ORDER_VERSION = 4  # the schema version that adds InsertSeq, the order the search pages by
FIRST_PAGE, LAST_PAGE = 1_000, 64_000  # rows per query: small for a quick first answer, growing to this
# characters no JSON writer escapes (not "/", which some write as "\/"): such text appears verbatim in a record
_PLAIN = re.compile(r"^[A-Za-z0-9_.:@+ -]+$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTEXT_KEY = re.compile(r"^context\.[A-Za-z0-9_-]+$")  # a key of context itself: a key of LogAttributes
_TYPED = {"service": "ServiceName", "level": "SeverityText", "message": "Body"}  # always strings in a stored record
_REQUIRED = ("timestamp", "service", "level", "message")


class StoreError(AnalyzerError):
    """The store could not answer (unreachable, no schema, a failed query); one line for the user."""


@dataclass(frozen=True)
class Prefilter:
    """A ClickHouse condition over ``logs`` keeping every record the query can match, and its parameters."""

    conditions: tuple[str, ...]
    parameters: dict[str, Any]

    def sql(self) -> str:
        """Return the conditions joined (``1`` when nothing narrows)."""
        return " AND ".join(self.conditions) or "1"


def _plain_value(text: str) -> bool:
    """Say whether ``text`` can equal a record's value only as that very string (or a list holding it)."""
    return bool(_PLAIN.match(text)) and _number(text) is None and text.lower() not in ("true", "false", "null", "none")


def _widened_bound(term: FieldTerm) -> tuple[str, float] | None:
    """Return (operator, bound) for ``context.KEY > N`` and the like, the bound widened; None for other terms.

    A number compares only with a number, which LogAttributes holds as it was written; two engines may parse it
    differently in the last digit, so the bound is widened by far more than that.
    """
    number = _number(term.value) if term.op in (">", ">=", "<", "<=") else None
    if number is None or not math.isfinite(number) or not _CONTEXT_KEY.match(term.key):
        return None
    slack = abs(number) * 1e-9 + 1e-9
    return (">=", number - slack) if term.op.startswith(">") else ("<=", number + slack)


def prefilter(query: SearchQuery) -> Prefilter:
    """Return the server-side condition for ``query``: a superset of what ``query.matches`` accepts."""
    conditions: list[str] = []
    params: dict[str, Any] = {}

    def param(value: Any, kind: str) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f"{{{name}:{kind}}}"

    since, until = query.since_text, query.until_text
    if since is not None:
        bound = f"parseDateTime64BestEffort({param(since, 'String')}, 3, 'UTC')"
        conditions += [f"Timestamp >= {bound}", f"TimestampTime >= toDateTime({bound})"]
    if until is not None:
        bound = f"parseDateTime64BestEffort({param(until, 'String')}, 3, 'UTC')"
        conditions += [f"Timestamp < {bound}", f"TimestampTime <= toDateTime({bound})"]
    for column, values in (("ServiceName", query.filters.services), ("SeverityText", query.filters.levels),
                           ("RequestId", query.request_ids), ("Event", query.events)):
        if values:
            conditions.append(f"{column} IN {param(list(values), 'Array(String)')}")
    if query.users:
        conditions.append(f"multiSearchAny(Record, {param(list(query.users), 'Array(String)')})")
    for text in query.texts:
        if _PLAIN.match(text):
            conditions.append(f"positionCaseInsensitive(Record, {param(text, 'String')}) > 0")
    for term in query.terms:
        if term.op == "=" and _plain_value(term.value):
            if term.key in _TYPED:
                conditions.append(f"{_TYPED[term.key]} = {param(term.value, 'String')}")
            else:
                conditions.append(f"position(Record, {param(orjson.dumps(term.value).decode(), 'String')}) > 0")
        elif term.op == "exists" and _PLAIN_KEY.match(last := term.key.split(".")[-1]):
            conditions.append(f"position(Record, {param(orjson.dumps(last).decode(), 'String')}) > 0")
        elif (widened := _widened_bound(term)) is not None:
            attribute, operator = param(term.key.removeprefix("context."), "String"), widened[0]
            conditions.append(f"toFloat64OrNull(LogAttributes[{attribute}]) {operator} {param(widened[1], 'Float64')}")
    return Prefilter(tuple(conditions), params)


@dataclass
class StoreSearchStats:
    """What a store search asked and judged, for ``--stats``."""

    queries: int = 0
    rows_fetched: int = 0  # rows the prefilter kept, each judged by the matcher
    matches: int = 0

    def to_dict(self) -> dict[str, object]:
        """Return the counters as plain data."""
        return dict(vars(self))


def require_schema(client: Any, address: StoreAddress) -> None:
    """Refuse a store without the schema a search needs, saying how to create or migrate it."""
    try:
        versions = applied_versions(client, address.database)
    except Exception as exc:  # the driver's errors are many; each becomes one line
        raise StoreError(f"cannot read the store {address}: {_first_line(exc)}") from exc
    if ORDER_VERSION not in versions:
        have = f"schema version {max(versions)}" if versions else "no log store schema"
        raise StoreError(f"the store {address} has {have}; search needs version {ORDER_VERSION} or later: "
                         f"run log-analyzer clickhouse init --url {address.url}")


@contextmanager
def open_store(url: str) -> Iterator[tuple[Any, StoreAddress]]:
    """Open the store at ``url`` for searching (schema checked); close it afterwards."""
    address = parse_store_url(url)
    client = connect(address)
    try:
        require_schema(client, address)
        yield client, address
    finally:
        client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def search_store(client: Any, database: str, query: SearchQuery, *, reverse: bool = False, limit: int | None = None,
                 stats: StoreSearchStats | None = None, source: str = "") -> Iterator[Hit]:
    """Yield the records of the store matching ``query``, oldest (or newest) first, at most ``limit``.

    Each hit's ``raw`` is the record as it was written, ``path`` is ``source`` (the store's name) and ``line`` 0:
    a stored record has no file.
    """
    stats = stats if stats is not None else StoreSearchStats()
    narrow = prefilter(query)
    direction, after = ("DESC", "<") if reverse else ("ASC", ">")
    page = FIRST_PAGE if limit is None else min(FIRST_PAGE, max(limit, 100))
    cursor, shown = None, 0
    while True:
        rows = _page(client, database, narrow, direction, after, cursor, page)
        stats.queries += 1
        stats.rows_fetched += len(rows)
        for record_bytes, *_ in rows:
            record = _record(record_bytes)
            if record is None or not query.matches(record):
                continue
            stats.matches += 1
            shown += 1
            yield Hit(record["timestamp"], 0, 0, record_bytes, True, source)
            if limit is not None and shown >= limit:
                return
        if len(rows) < page:
            return
        cursor = rows[-1][1:]
        page = min(page * 2, LAST_PAGE)


def _record(raw: bytes) -> dict[str, Any] | None:
    """Return the parsed record when it is one the file road would read (its four keys strings), else None."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(record, dict) and all(isinstance(record.get(k), str) for k in _REQUIRED):
        return record
    return None


def _page(client: Any, database: str, narrow: Prefilter, direction: str, after: str,
          cursor: tuple[int, str, int] | None, rows: int) -> list[tuple[bytes, int, str, int]]:
    """Return the next ``rows`` rows after ``cursor`` (instant in ns, service, InsertSeq) in the search's order."""
    if cursor is not None:
        moment = "fromUnixTimestamp64Nano({c_ns:Int64}, 'UTC')"
        key = f"({moment}, {{c_service:String}}, {{c_seq:UInt64}})"
        narrow = Prefilter((*narrow.conditions, f"(Timestamp, ServiceName, InsertSeq) {after} {key}",
                            f"Timestamp {after}= {moment}", f"TimestampTime {after}= toDateTime({moment})"),
                           {**narrow.parameters, "c_ns": cursor[0], "c_service": cursor[1], "c_seq": cursor[2]})
    sql = (f"SELECT Record, toUnixTimestamp64Nano(Timestamp), toString(ServiceName), InsertSeq FROM {database}.logs "
           f"WHERE {narrow.sql()} "
           f"ORDER BY Timestamp {direction}, ServiceName {direction}, InsertSeq {direction} LIMIT {int(rows)}")
    try:
        result = client.query(sql, parameters=narrow.parameters, column_formats={"Record": "bytes"})
    except Exception as exc:  # the driver's errors are many; each becomes one line
        raise StoreError(f"the store's search query failed: {_first_line(exc)}") from exc
    return [(r[0], int(r[1]), r[2], int(r[3])) for r in result.result_rows]


def store_records(client: Any, database: str, query: SearchQuery, source: str = "") -> list[dict[str, Any]]:
    """Return the matching records, oldest first (the form ``trace`` consumes)."""
    return [orjson.loads(hit.raw) for hit in search_store(client, database, query, source=source)]
