-- v4: the order in which records were stored (InsertSeq), so records of the same millisecond come back in the
-- order they were written, as they do from the files (search, trace), and a search can page through them by
-- (Timestamp, ServiceName, InsertSeq), a key no two records share. generateSnowflakeID() (ClickHouse 24.6+) rises
-- with every row it numbers, in the order of the rows of an insert and from one insert to the next; it is filled
-- on insert by the default. Rows stored before v4 are numbered once here, in their order on disk (service, level,
-- second): their ties keep that order. Run init while no load is running.

ALTER TABLE {db}.logs ADD COLUMN IF NOT EXISTS InsertSeq UInt64 DEFAULT generateSnowflakeID() CODEC(ZSTD(1));

ALTER TABLE {db}.logs MATERIALIZE COLUMN InsertSeq SETTINGS mutations_sync = 2;
