"""What the store holds: schema version, records per service, rejected lines by reason, bytes on disk, files loaded."""

from __future__ import annotations

from typing import Any

from crypto_observability.log_analyzer.store.loader import MOVED
from crypto_observability.log_analyzer.store.migrations import applied_versions, available


def store_status(client: Any, database: str) -> dict[str, Any]:
    """Return the store's state as one JSON-ready document."""
    versions = applied_versions(client, database)
    newest = max((m.version for m in available()), default=0)
    doc: dict[str, Any] = {"database": database, "schema_version": max(versions, default=0),
                           "schema_newest": newest, "records": {}, "rejected": {}, "files_loaded": 0,
                           "bytes_on_disk": 0}
    if not versions:
        return doc
    query = client.query
    doc["records"] = dict(query(f"SELECT ServiceName, count() FROM {database}.logs GROUP BY ServiceName "
                                "ORDER BY ServiceName").result_rows)
    doc["rejected"] = dict(query(f"SELECT Reason, count() FROM {database}.logs_rejected GROUP BY Reason "
                                 "ORDER BY Reason").result_rows)
    doc["files_loaded"] = query(f"SELECT count() FROM {database}.load_ledger FINAL "  # a moved row is no file
                                f"WHERE NOT startsWith(Path, {MOVED!r})").result_rows[0][0]
    doc["bytes_on_disk"] = query("SELECT sum(bytes_on_disk) FROM system.parts WHERE active "
                                 "AND database = {db:String}", parameters={"db": database}).result_rows[0][0] or 0
    return doc
