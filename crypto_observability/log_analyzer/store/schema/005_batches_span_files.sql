-- v5: one insert may carry the lines of several files (few large inserts instead of one or two per file: a
-- ClickHouse insert has a fixed cost, and small parts cost merges), so the ledger keeps, beside each file's pending
-- range, the token of the batch that range belongs to: a load killed mid-batch resends exactly that batch.

ALTER TABLE {db}.load_ledger ADD COLUMN IF NOT EXISTS Batch String DEFAULT '';
