-- v3: the analyzer's newer flat columns (git_commit, status_code, config_hash, cache_hits, cache_misses) as ALIAS
-- columns, and status_code among the per-minute counts' keys; counts is rebuilt from the stored rows so every row
-- is summarised with its status code (run init while no load is running: rows arriving between the rebuild and the
-- new view would be summarised twice).

ALTER TABLE {db}.logs
    ADD COLUMN IF NOT EXISTS git_commit Nullable(String) ALIAS nullIf(ResourceAttributes['service.version'], ''),
    ADD COLUMN IF NOT EXISTS status_code Nullable(Int32) ALIAS toInt32OrNull(LogAttributes['status_code']),
    ADD COLUMN IF NOT EXISTS config_hash Nullable(String) ALIAS nullIf(LogAttributes['config_hash'], ''),
    ADD COLUMN IF NOT EXISTS cache_hits Nullable(Int64) ALIAS toInt64OrNull(LogAttributes['hits']),
    ADD COLUMN IF NOT EXISTS cache_misses Nullable(Int64) ALIAS toInt64OrNull(LogAttributes['misses']);

DROP VIEW IF EXISTS {db}.counts_mv;

TRUNCATE TABLE {db}.counts;

ALTER TABLE {db}.counts
    ADD COLUMN IF NOT EXISTS status_code Nullable(Int32) AFTER path,
    MODIFY ORDER BY (service, level, minute, module, event, method, path, command, exchange, error_type, err_type,
                     exc_type, operation, hit, component, healthy, success, flags, status_code);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.counts_mv TO {db}.counts AS
SELECT toStartOfMinute(ts) AS minute, service, module, level, event, method, path, status_code, command, exchange,
       error_type,
       err_type, exc_type, operation, hit, component, healthy, success, flags,
       count() AS n, min(ts) AS first_ts, max(ts) AS last_ts,
       count(memory_mb) AS mem_n, sum(toDecimal128(ifNull(memory_mb, 0), 3)) AS mem_sum, max(memory_mb) AS mem_max,
       count(cpu_percent) AS cpu_n, sum(toDecimal128(ifNull(cpu_percent, 0), 3)) AS cpu_sum,
       max(cpu_percent) AS cpu_max
FROM {db}.logs
GROUP BY minute, service, module, level, event, method, path, status_code, command, exchange, error_type, err_type,
         exc_type,
         operation, hit, component, healthy, success, flags;

-- backfill: counts_mv
