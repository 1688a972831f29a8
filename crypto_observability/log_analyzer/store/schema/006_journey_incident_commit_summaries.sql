-- v6: the summaries journey_parts, incident_cells and commits, and the cache sums of counts, (crypto_observability/log_analyzer/summary.py) kept by
-- the store, fed on insert, so a report reads them instead of grouping every row again. Each view's SELECT is
-- summary.summary_select itself, rendered by the migration runner where a statement names {summary:TABLE}
-- (store/migrations.py): simple aggregates land as SimpleAggregateFunction columns of the same function (count as
-- sum), arg_max as a state (its value a one-element tuple); store/dataset.py reads each table back by merging with the functions its column
-- types name. A `day` column, filled by its default, partitions each table so TTL drops whole old days. Rows
-- already stored are summarised once by the backfill lines (run init while no load is running).

CREATE TABLE IF NOT EXISTS {db}.journey_parts
(
    request_id String,
    user SimpleAggregateFunction(max, Nullable(String)),
    start SimpleAggregateFunction(min, DateTime64(9)),
    finish SimpleAggregateFunction(max, DateTime64(9)),
    events SimpleAggregateFunction(sum, UInt64),
    service_lo SimpleAggregateFunction(min, UInt64),
    service_hi SimpleAggregateFunction(max, UInt64),
    rt_max SimpleAggregateFunction(max, Nullable(Float64)),
    has_error SimpleAggregateFunction(max, UInt8),
    outcome_key SimpleAggregateFunction(max, Nullable(Int64)),
    outcome AggregateFunction(argMax, Tuple(Nullable(UInt8)), Int64),
    day Date DEFAULT toDate(start)
)
ENGINE = AggregatingMergeTree
PARTITION BY day
ORDER BY request_id
TTL day + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.journey_parts_mv TO {db}.journey_parts AS {summary:journey_parts};

-- incident_cells: per 10 s window w (summary.INCIDENT_RESOLUTION_S), so its day is that of w * 10 seconds
CREATE TABLE IF NOT EXISTS {db}.incident_cells
(
    w UInt32,
    service LowCardinality(String), event Nullable(String), exchange Nullable(String), type Nullable(String),
    judged SimpleAggregateFunction(sum, UInt64),
    failures SimpleAggregateFunction(sum, UInt64),
    first_fail SimpleAggregateFunction(min, Nullable(DateTime64(9))),
    last_fail SimpleAggregateFunction(max, Nullable(DateTime64(9))),
    day Date DEFAULT toDate(toDateTime(w * 10, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY day
ORDER BY (service, w, event, exchange, type)
TTL day + toIntervalDay({ttl_days})
SETTINGS allow_nullable_key = 1, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.incident_cells_mv TO {db}.incident_cells AS {summary:incident_cells};

CREATE TABLE IF NOT EXISTS {db}.commits
(
    service LowCardinality(String), git_commit String,
    first SimpleAggregateFunction(min, DateTime64(9)),
    last SimpleAggregateFunction(max, DateTime64(9)),
    day Date DEFAULT toDate(last)
)
ENGINE = AggregatingMergeTree
PARTITION BY day
ORDER BY (service, git_commit)
TTL day + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.commits_mv TO {db}.commits AS {summary:commits};

-- counts gains the cache hits and misses the cache_stats records report, so a report reads no row for them; its
-- view is now rendered from summary_select too (whose resource sums are NULL where no record has the
-- measure), and counts is rebuilt from the stored rows (as in v3).
DROP VIEW IF EXISTS {db}.counts_mv;

TRUNCATE TABLE {db}.counts;

ALTER TABLE {db}.counts
    ADD COLUMN IF NOT EXISTS hits_sum SimpleAggregateFunction(sum, Nullable(Int64)),
    ADD COLUMN IF NOT EXISTS misses_sum SimpleAggregateFunction(sum, Nullable(Int64)),
    MODIFY COLUMN mem_sum SimpleAggregateFunction(sum, Nullable(Decimal(38, 3))),
    MODIFY COLUMN cpu_sum SimpleAggregateFunction(sum, Nullable(Decimal(38, 3)));

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.counts_mv TO {db}.counts AS {summary:counts};

-- backfill: counts_mv
-- backfill: journey_parts_mv
-- backfill: incident_cells_mv
-- backfill: commits_mv
