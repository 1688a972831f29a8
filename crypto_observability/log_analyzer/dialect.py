"""The few SQL spellings that differ between DuckDB (files) and ClickHouse (the store), and nothing else.

The summaries (``summary.summary_select``) and the filters (``Filters.where``) are written once, in the SQL both
engines read alike (``GROUP BY ALL``, ``count(*) FILTER (WHERE ...)``, ``coalesce``, ``CASE``, ``ln``, ``CAST(...
AS BIGINT)``); where the engines spell a thing differently the text names it by a key of ``Dialect``:

    bucket      the start of the ``{seconds}``-second window holding ``{ts}`` (windows aligned on the epoch)
    epoch_div   seconds since the epoch of ``{ts}`` divided by ``{n}``, rounded down (ClickHouse reads ``//`` as a
                comment; DuckDB's ``//`` on a DOUBLE divides without rounding)
    epoch_us    microseconds since the epoch
    hash        a 64-bit hash of a string (only compared within one engine's answer)
    arg_max     the value of ``{0}`` at the largest ``{1}``
    fixed       a number in fixed point to 0.001 (DuckDB rounds, ClickHouse truncates after its own float
                conversion: equal for values of at most three decimals, which is what our records carry); NULL,
                never an error, from 10^15 on (DECIMAL(18, 3)'s range): one absurd record fails no query or insert
    timestamp   a naive-UTC timestamp literal, to the microsecond (ClickHouse's ``TIMESTAMP '...'`` drops the
                fraction and reads the server's time zone)

ClickHouse queries also run with ``CLICKHOUSE_SETTINGS``: an aggregate over no row is NULL as in DuckDB (not the
type's default), and times are UTC.
"""

from __future__ import annotations

from collections.abc import Iterable

Dialect = dict[str, str]

DUCKDB: Dialect = {
    "bucket": "time_bucket(INTERVAL {seconds} SECOND, {ts})",
    "epoch_div": "CAST(floor(epoch({ts}) / {n}) AS BIGINT)",
    "epoch_us": "epoch_us({})",
    "hash": "hash({})",
    "arg_max": "arg_max({}, {})",
    "fixed": "TRY_CAST(CASE WHEN abs({0}) < 1e15 THEN {0} END AS DECIMAL(18, 3))",
    "timestamp": "TIMESTAMP '{}'",
}

CLICKHOUSE: Dialect = {
    "bucket": "toDateTime64(toStartOfInterval({ts}, INTERVAL {seconds} SECOND), 0, 'UTC')",
    "epoch_div": "intDiv(toUnixTimestamp({ts}), {n})",
    "epoch_us": "toUnixTimestamp64Micro({})",
    "hash": "cityHash64({})",
    "arg_max": "argMax({}, {})",
    "fixed": "accurateCastOrNull(if(abs({0}) < 1e15, {0}, NULL), 'Decimal64(3)')",
    "timestamp": "toDateTime64('{}', 6, 'UTC')",
}

# the store's materialized summaries (store/migrations.py): the same SELECT, its one non-simple aggregate kept as a
# state the reading side merges (``argMaxMerge``); the value rides in a one-element tuple, whose empty state reads
# NULL as the plain aggregate over no row does (a bare Nullable value is stripped and would read its default)
CLICKHOUSE_STATE: Dialect = {**CLICKHOUSE, "arg_max": "argMaxState(tuple(toNullable({})), {})"}

CLICKHOUSE_SETTINGS: dict[str, object] = {"aggregate_functions_null_for_empty": 1, "session_timezone": "UTC"}


def string_list(values: Iterable[str]) -> str:
    """Return ``values`` as a list of SQL string literals for ``IN (...)`` (``NULL``, matching nothing, when empty)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values) or "NULL"
