-- v2: the analyzer's flat columns (crypto_observability/log_analyzer/schema.py FLAT_COLUMNS) as ALIAS columns of logs, so a query
-- written against the analyzer's `records` relation reads this table unchanged; and the per-minute summaries
-- (crypto_observability/log_analyzer/summary.py: counts, latency) as materialized views fed on insert, so reports read
-- summaries, not rows. Existing rows are summarised once by the backfill lines.

ALTER TABLE {db}.logs
    ADD COLUMN IF NOT EXISTS ts DateTime64(9) ALIAS Timestamp,
    ADD COLUMN IF NOT EXISTS service String ALIAS ServiceName,
    ADD COLUMN IF NOT EXISTS module String ALIAS ScopeName,
    ADD COLUMN IF NOT EXISTS level String ALIAS SeverityText,
    ADD COLUMN IF NOT EXISTS message String ALIAS Body,
    ADD COLUMN IF NOT EXISTS event Nullable(String) ALIAS nullIf(Event, ''),
    ADD COLUMN IF NOT EXISTS request_id Nullable(String) ALIAS nullIf(RequestId, ''),
    ADD COLUMN IF NOT EXISTS user Nullable(String) ALIAS nullIf(UserHash, ''),
    ADD COLUMN IF NOT EXISTS rt Nullable(Float64) ALIAS ResponseTimeMs,
    ADD COLUMN IF NOT EXISTS success Nullable(Bool) ALIAS Success,
    ADD COLUMN IF NOT EXISTS method Nullable(String) ALIAS nullIf(LogAttributes['method'], ''),
    ADD COLUMN IF NOT EXISTS path Nullable(String) ALIAS nullIf(LogAttributes['path'], ''),
    ADD COLUMN IF NOT EXISTS command Nullable(String) ALIAS nullIf(LogAttributes['command'], ''),
    ADD COLUMN IF NOT EXISTS exchange Nullable(String) ALIAS nullIf(Exchange, ''),
    ADD COLUMN IF NOT EXISTS error_type Nullable(String) ALIAS nullIf(LogAttributes['error_type'], ''),
    ADD COLUMN IF NOT EXISTS operation Nullable(String) ALIAS nullIf(LogAttributes['operation'], ''),
    ADD COLUMN IF NOT EXISTS hit Nullable(Bool) ALIAS CAST(nullIf(LogAttributes['hit'], '') AS Nullable(Bool)),
    ADD COLUMN IF NOT EXISTS flags Array(String) ALIAS JSONExtract(LogAttributes['flags'], 'Array(String)'),
    ADD COLUMN IF NOT EXISTS component Nullable(String) ALIAS nullIf(LogAttributes['component'], ''),
    ADD COLUMN IF NOT EXISTS healthy Nullable(Bool) ALIAS CAST(nullIf(LogAttributes['healthy'], '') AS Nullable(Bool)),
    ADD COLUMN IF NOT EXISTS memory_mb Nullable(Float64) ALIAS MemoryMb,
    ADD COLUMN IF NOT EXISTS cpu_percent Nullable(Float64) ALIAS CpuPercent,
    ADD COLUMN IF NOT EXISTS err_type Nullable(String) ALIAS nullIf(ErrorType, ''),
    ADD COLUMN IF NOT EXISTS fingerprint Nullable(String) ALIAS nullIf(Fingerprint, ''),
    ADD COLUMN IF NOT EXISTS exc_type Nullable(String) ALIAS nullIf(ExceptionType, '');

-- counts: per minute and per combination of summary.DIMS; n, first/last time, resource sums (fixed point) and peaks.
CREATE TABLE IF NOT EXISTS {db}.counts
(
    minute DateTime,
    service LowCardinality(String), module String, level LowCardinality(String),
    event Nullable(String), method Nullable(String), path Nullable(String), command Nullable(String),
    exchange Nullable(String), error_type Nullable(String), err_type Nullable(String), exc_type Nullable(String),
    operation Nullable(String), hit Nullable(Bool), component Nullable(String), healthy Nullable(Bool),
    success Nullable(Bool), flags Array(String),
    n SimpleAggregateFunction(sum, UInt64),
    first_ts SimpleAggregateFunction(min, DateTime64(9)),
    last_ts SimpleAggregateFunction(max, DateTime64(9)),
    mem_n SimpleAggregateFunction(sum, UInt64),
    mem_sum SimpleAggregateFunction(sum, Decimal(38, 3)),
    mem_max SimpleAggregateFunction(max, Nullable(Float64)),
    cpu_n SimpleAggregateFunction(sum, UInt64),
    cpu_sum SimpleAggregateFunction(sum, Decimal(38, 3)),
    cpu_max SimpleAggregateFunction(max, Nullable(Float64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
PRIMARY KEY (service, level, minute)
ORDER BY (service, level, minute, module, event, method, path, command, exchange, error_type, err_type, exc_type,
          operation, hit, component, healthy, success, flags)
TTL minute + toIntervalDay({ttl_days})
SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.counts_mv TO {db}.counts AS
SELECT toStartOfMinute(ts) AS minute, service, module, level, event, method, path, command, exchange, error_type,
       err_type, exc_type, operation, hit, component, healthy, success, flags,
       count() AS n, min(ts) AS first_ts, max(ts) AS last_ts,
       count(memory_mb) AS mem_n, sum(toDecimal128(ifNull(memory_mb, 0), 3)) AS mem_sum, max(memory_mb) AS mem_max,
       count(cpu_percent) AS cpu_n, sum(toDecimal128(ifNull(cpu_percent, 0), 3)) AS cpu_sum,
       max(cpu_percent) AS cpu_max
FROM {db}.logs
GROUP BY minute, service, module, level, event, method, path, command, exchange, error_type, err_type, exc_type,
         operation, hit, component, healthy, success, flags;

-- latency: per (service, event, method, path, command, exchange) and log bucket (factor summary.GAMMA = 1.02).
CREATE TABLE IF NOT EXISTS {db}.latency
(
    minute DateTime,
    service LowCardinality(String), event Nullable(String), method Nullable(String), path Nullable(String),
    command Nullable(String), exchange Nullable(String),
    bin Int32,
    n SimpleAggregateFunction(sum, UInt64),
    lo SimpleAggregateFunction(min, Float64),
    hi SimpleAggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
PRIMARY KEY (service, minute)
ORDER BY (service, minute, event, method, path, command, exchange, bin)
TTL minute + toIntervalDay({ttl_days})
SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.latency_mv TO {db}.latency AS
SELECT toStartOfMinute(ts) AS minute, service, event, method, path, command, exchange,
       toInt32(if(rt > 0, floor(log(rt) / log(1.02)), -1073741824)) AS bin,
       count() AS n, min(assumeNotNull(rt)) AS lo, max(assumeNotNull(rt)) AS hi
FROM {db}.logs
WHERE rt IS NOT NULL
GROUP BY minute, service, event, method, path, command, exchange, bin;

-- backfill: counts_mv
-- backfill: latency_mv
