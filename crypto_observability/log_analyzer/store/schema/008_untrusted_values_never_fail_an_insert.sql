-- v8: a value of the wrong type or out of range is NULL, never a failed insert. Until now one record whose
-- context.success, hit or healthy was not a boolean ("maybe", 2), or whose memory or CPU passed Decimal64's range,
-- failed the insert of its whole batch, and every load that sent the batch again. Now, as on the file road: a
-- success/hit/healthy reads a number as true unless 0 and other text that is not a boolean (yes/no, t/f...) as
-- NULL, a response time, memory or CPU figure that is not a finite number is NULL, and a fixed-point sum is NULL from 10^15 on (dialect.py's `fixed`, which counts_mv is rendered
-- with again). The views are changed in place (MODIFY QUERY): no insert arrives while a view is missing.
ALTER TABLE {db}.logs_mv MODIFY QUERY
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
       ifNotFinite(toFloat64OrNull(LogAttributes['response_time_ms']), NULL) AS ResponseTimeMs,
       coalesce(accurateCastOrNull(nullIf(LogAttributes['success'], ''), 'Bool'),
                toFloat64OrNull(LogAttributes['success']) != 0) AS Success,
       ifNull(r.error.type, '') AS ErrorType,
       ifNull(r.error.category, '') AS ErrorCategory,
       ifNull(r.error.fingerprint, '') AS Fingerprint,
       ifNull(r.exception.type, '') AS ExceptionType,
       ifNotFinite(r.performance.memory_usage_mb, NULL) AS MemoryMb,
       ifNotFinite(r.performance.cpu_percent, NULL) AS CpuPercent,
       line AS Record
FROM {db}.logs_checked
WHERE Reason = '';

ALTER TABLE {db}.logs
    MODIFY COLUMN hit Nullable(Bool) ALIAS coalesce(accurateCastOrNull(nullIf(LogAttributes['hit'], ''), 'Bool'),
                                                  toFloat64OrNull(LogAttributes['hit']) != 0),
    MODIFY COLUMN healthy Nullable(Bool) ALIAS coalesce(accurateCastOrNull(nullIf(LogAttributes['healthy'], ''), 'Bool'),
                                                  toFloat64OrNull(LogAttributes['healthy']) != 0);

ALTER TABLE {db}.counts_mv MODIFY QUERY {summary:counts};
