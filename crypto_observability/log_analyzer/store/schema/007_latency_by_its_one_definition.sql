-- v7: latency's view, the SQL of version 2 until now, is rendered from summary.summary_select like every other
-- summary (summary.STORED_LATENCY: per minute and summary.LATENCY_KEYS, the 1.02 log buckets), so the
-- bucket of a response time is computed by the one expression the file road uses; the table is refilled from the
-- stored rows by that definition (run init while no load is running).
DROP VIEW IF EXISTS {db}.latency_mv;

TRUNCATE TABLE {db}.latency;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.latency_mv TO {db}.latency AS {summary:latency_by_minute_and_key};

-- backfill: latency_mv
