"""The central ClickHouse store: where to connect, the versioned schema, and the idempotent bulk loader.

    connection   a ``clickhouse://`` / ``chdb://`` URL to a client (password only from the environment)
    migrations   the schema's SQL files applied in order, each once, recorded in ``schema_migrations``
    loader       log files (rotated ``.gz`` included) into the store in batches, exactly once per line
"""
