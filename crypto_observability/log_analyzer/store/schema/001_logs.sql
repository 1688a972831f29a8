-- v1: every record in one MergeTree table, fed on insert from a landing table.
--
-- Columns named as the OpenTelemetry ClickHouse exporter's otel_logs table (Timestamp, TraceId, SpanId,
-- SeverityText, SeverityNumber, ServiceName, Body, ResourceAttributes, LogAttributes, ...), so Grafana's
-- ClickHouse data source and HyperDX read it as logs with no mapping; our own fields are typed columns
-- beside them, and the whole record is kept in Record, byte for byte as it was written.
-- Placeholders: {db} (database), {ttl_days} (retention).

CREATE TABLE IF NOT EXISTS {db}.logs
(
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Event LowCardinality(String),
    RequestId String CODEC(ZSTD(1)),
    UserHash String CODEC(ZSTD(1)),
    Exchange LowCardinality(String),
    ResponseTimeMs Nullable(Float64),
    Success Nullable(Bool),
    ErrorType LowCardinality(String),
    ErrorCategory LowCardinality(String),
    Fingerprint String CODEC(ZSTD(1)),
    ExceptionType LowCardinality(String),
    MemoryMb Nullable(Float64),
    CpuPercent Nullable(Float64),
    Record String CODEC(ZSTD(3)),
    INDEX idx_request_id RequestId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user_hash UserHash TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
)
ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
ORDER BY (ServiceName, SeverityText, TimestampTime)
TTL TimestampTime + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- The landing table: one JSON record per row (FORMAT JSONAsString keeps each line whole); it stores nothing.
CREATE TABLE IF NOT EXISTS {db}.logs_ingest (line String) ENGINE = Null;

-- Each line parsed once into the fields the table keeps (objects as their JSON text) and checked once: Reason is
-- empty for one of our records, else why it is not one.
CREATE TABLE IF NOT EXISTS {db}.logs_checked
(
    line String,
    r Tuple(timestamp Nullable(String), service Nullable(String), module Nullable(String), level Nullable(String),
            message Nullable(String), event Nullable(String), request_id Nullable(String), trace_id Nullable(String),
            span_id Nullable(String), user Nullable(String), docker_container Nullable(String),
            git_commit Nullable(String), environment Nullable(String), context String,
            error Tuple(type Nullable(String), category Nullable(String), fingerprint Nullable(String)),
            exception Tuple(type Nullable(String)),
            performance Tuple(memory_usage_mb Nullable(Float64), cpu_percent Nullable(Float64))),
    Timestamp Nullable(DateTime64(9, 'UTC')),
    Reason LowCardinality(String)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.logs_check_mv TO {db}.logs_checked AS
SELECT line, r,
       if(match(ifNull(r.timestamp, ''), '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}'),
          parseDateTime64BestEffortOrNull(r.timestamp, 9, 'UTC'), NULL) AS Timestamp,
       multiIf(NOT isValidJSON(line), 'not JSON',
               Timestamp IS NULL, 'no RFC 3339 timestamp',
               ifNull(r.service, '') = '', 'no service',
               ifNull(r.level, '') NOT IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'), 'no level',
               JSONType(line, 'message') != 'String', 'no message',
               '') AS Reason
FROM (SELECT line, JSONExtract(line, 'Tuple(timestamp Nullable(String), service Nullable(String), module Nullable(String), level Nullable(String), message Nullable(String), event Nullable(String), request_id Nullable(String), trace_id Nullable(String), span_id Nullable(String), user Nullable(String), docker_container Nullable(String), git_commit Nullable(String), environment Nullable(String), context String, error Tuple(type Nullable(String), category Nullable(String), fingerprint Nullable(String)), exception Tuple(type Nullable(String)), performance Tuple(memory_usage_mb Nullable(Float64), cpu_percent Nullable(Float64)))') AS r
      FROM {db}.logs_ingest);

-- Lines that are not one of our records are kept here with the reason, never inserted half-typed.
CREATE TABLE IF NOT EXISTS {db}.logs_rejected
(
    ReceivedAt DateTime DEFAULT now(),
    Reason LowCardinality(String),
    Line String CODEC(ZSTD(3))
)
ENGINE = MergeTree
ORDER BY ReceivedAt
TTL ReceivedAt + toIntervalDay({ttl_days})
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.logs_rejected_mv TO {db}.logs_rejected AS
SELECT now() AS ReceivedAt, Reason, line AS Line FROM {db}.logs_checked WHERE Reason != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.logs_mv TO {db}.logs AS
SELECT assumeNotNull(Timestamp) AS Timestamp,
       ifNull(r.trace_id, '') AS TraceId,
       ifNull(r.span_id, '') AS SpanId,
       assumeNotNull(r.level) AS SeverityText,
       toUInt8(transform(SeverityText, ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'], [5, 9, 13, 17, 21], 0))
           AS SeverityNumber,
       assumeNotNull(r.service) AS ServiceName,
       assumeNotNull(r.message) AS Body,
       mapFilter((k, v) -> v != '', map('container.name', ifNull(r.docker_container, ''),
                                        'service.version', ifNull(r.git_commit, ''),
                                        'deployment.environment', ifNull(r.environment, '')))
           AS ResourceAttributes,
       ifNull(r.module, '') AS ScopeName,
       CAST(arrayMap(kv -> (kv.1, if(JSONType(kv.2) = 'String', JSONExtractString(kv.2), kv.2)),
                     JSONExtractKeysAndValuesRaw(r.context)), 'Map(String, String)') AS LogAttributes,
       ifNull(r.event, '') AS Event,
       ifNull(r.request_id, '') AS RequestId,
       ifNull(r.user, '') AS UserHash,
       LogAttributes['exchange'] AS Exchange,
       toFloat64OrNull(LogAttributes['response_time_ms']) AS ResponseTimeMs,
       CAST(nullIf(LogAttributes['success'], '') AS Nullable(Bool)) AS Success,
       ifNull(r.error.type, '') AS ErrorType,
       ifNull(r.error.category, '') AS ErrorCategory,
       ifNull(r.error.fingerprint, '') AS Fingerprint,
       ifNull(r.exception.type, '') AS ExceptionType,
       r.performance.memory_usage_mb AS MemoryMb,
       r.performance.cpu_percent AS CpuPercent,
       line AS Record
FROM {db}.logs_checked
WHERE Reason = '';

-- Where each file's load has reached, so a load is idempotent and a killed one resumes: a file is known by its
-- first line (it survives rotation and compression), lines_done counts its lines consumed, and a batch in flight
-- is written here first so a resumed load sends exactly that batch again (its insert token drops the copy).
CREATE TABLE IF NOT EXISTS {db}.load_ledger
(
    FileId String,
    Path String,
    LinesDone UInt64,
    PendingEnd UInt64,
    Updated DateTime64(6) DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(Updated)
ORDER BY FileId;
