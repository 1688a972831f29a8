"""The monitor's state database holds alert text: it is private like the logs (0640 in 0750)."""

from __future__ import annotations

from pathlib import Path

from crypto_observability.log_monitor.store import Store


def test_state_database_is_created_private(tmp_path: Path) -> None:
    """A new state file and its directory get the log files' permissions, WAL files included."""
    path = tmp_path / "state" / "monitor.db"
    store = Store(path)
    store.db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.parent.stat().st_mode & 0o777 == 0o750
    for extra in path.parent.glob("monitor.db-*"):
        assert extra.stat().st_mode & 0o777 == 0o640, extra
    store.close()
