"""SQLite state: offsets, rule windows, alerts, history, silences, acks and the notification outbox.

Everything a batch of lines caused is written by `commit()` in ONE transaction, so a kill -9 at
any moment leaves either all of it or none of it; the outbox rows are delivered afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from crypto_observability.log_monitor.errors import StateError

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE NOT NULL, rule TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, alert_id INTEGER, kind TEXT NOT NULL, detail BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, idempotency_key TEXT UNIQUE NOT NULL, channel TEXT NOT NULL,
    payload BLOB NOT NULL, created_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, last_error TEXT, sent_at REAL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS silences (
    id INTEGER PRIMARY KEY, matchers BLOB NOT NULL, starts_at REAL NOT NULL, ends_at REAL NOT NULL,
    created_by TEXT NOT NULL, comment TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS acks (
    id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, ts REAL NOT NULL, by TEXT NOT NULL, comment TEXT NOT NULL);
"""


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def private_directory(path: Path) -> None:
    """Create the directory holding ``path`` 0750 when it is missing (the state and its lock live there)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        path.parent.chmod(0o750)


def _private_file(path: Path) -> None:
    """Create the state file 0640 in a 0750 directory (SQLite gives its WAL files the same mode)."""
    private_directory(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o640))
        path.chmod(0o640)


class Store:
    """One SQLite file (WAL) shared by the monitor, its sender and the CLI commands."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(Path(self.path))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state database {self.path!r} is unusable: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """Return a JSON value stored under `key`."""
        row = self.db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else default

    def alerts(self) -> list[dict[str, Any]]:
        """Return every alert row as a dict (with its integer id)."""
        rows = self.db.execute("SELECT id, data FROM alerts ORDER BY id").fetchall()
        return [{**orjson.loads(data), "id": aid} for aid, data in rows]

    def history(self, limit: int = 50, alert_id: int | None = None) -> list[dict[str, Any]]:
        """Return the newest history rows, newest last."""
        sql = "SELECT id, ts, alert_id, kind, detail FROM history"
        args: tuple[Any, ...] = ()
        if alert_id is not None:
            sql, args = sql + " WHERE alert_id=?", (alert_id,)
        rows = self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [
            {"id": i, "ts": ts, "alert_id": a, "kind": k, "detail": orjson.loads(d)}
            for i, ts, a, k, d in reversed(rows)
        ]

    def silences(self, now: float | None = None) -> list[dict[str, Any]]:
        """Return silences, only those in force at `now` if given."""
        rows = self.db.execute("SELECT id, matchers, starts_at, ends_at, created_by, comment FROM silences")
        out = [
            {"id": i, "matchers": orjson.loads(m), "starts_at": s, "ends_at": e, "created_by": b, "comment": c}
            for i, m, s, e, b, c in rows
        ]
        return [x for x in out if now is None or x["starts_at"] <= now < x["ends_at"]]

    def acks_after(self, last_id: int) -> list[dict[str, Any]]:
        """Return acknowledgements recorded after `last_id`."""
        rows = self.db.execute(
            "SELECT id, alert_id, ts, by, comment FROM acks WHERE id>? ORDER BY id", (last_id,)
        ).fetchall()
        return [{"id": i, "alert_id": a, "ts": t, "by": b, "comment": c} for i, a, t, b, c in rows]

    def outbox(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return outbox rows (optionally of one status), oldest first."""
        sql = "SELECT id, idempotency_key, channel, payload, status, attempts, next_attempt_at, last_error FROM outbox"
        rows = self.db.execute(
            sql + (" WHERE status=?" if status else "") + " ORDER BY id", (status,) if status else ()
        ).fetchall()
        return [
            {
                "id": i,
                "idempotency_key": k,
                "channel": ch,
                "payload": orjson.loads(p),
                "status": st,
                "attempts": n,
                "next_attempt_at": nx,
                "last_error": e,
            }
            for i, k, ch, p, st, n, nx, e in rows
        ]

    def due(self, now: float) -> list[dict[str, Any]]:
        """Return pending outbox rows whose next attempt is due."""
        return [r for r in self.outbox("pending") if r["next_attempt_at"] <= now]

    # -- writes --------------------------------------------------------------------------
    def commit(
        self,
        kv: dict[str, Any],
        alerts: Iterable[dict[str, Any]] = (),
        history: Iterable[tuple[float, str | None, str, dict[str, Any]]] = (),
        outbox: Iterable[tuple[str, dict[str, Any], float]] = (),
        evicted: Iterable[str] = (),
    ) -> None:
        """Write state, alerts, history and new outbox rows atomically.

        History and outbox rows refer to alerts by fingerprint; ids are resolved inside the transaction.
        """
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", [(k, _dumps(v)) for k, v in kv.items()]
            )
            for a in alerts:
                data = _dumps({k: v for k, v in a.items() if k != "id"})
                db.execute(
                    "INSERT INTO alerts (fingerprint, rule, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(fingerprint) DO UPDATE SET data=excluded.data",
                    (a["fingerprint"], a["rule"], data),
                )
            history, outbox = list(history), list(outbox)
            wanted = {fp for _, fp, _, _ in history if fp} | {
                a["fingerprint"] for _, payload, _ in outbox for a in payload.get("alerts", [])
            }
            ids = self._ids(db, wanted)
            db.executemany("DELETE FROM alerts WHERE fingerprint=?", [(fp,) for fp in evicted])
            db.executemany(
                "INSERT INTO history (ts, alert_id, kind, detail) VALUES (?, ?, ?, ?)",
                [(ts, ids.get(fp) if fp else None, kind, _dumps(d)) for ts, fp, kind, d in history],
            )
            for channel, payload, now in outbox:
                key = payload.setdefault("idempotency_key", uuid.uuid4().hex)
                for alert in payload.get("alerts", []):
                    alert["id"] = ids.get(alert["fingerprint"])
                db.execute(
                    "INSERT INTO outbox (idempotency_key, channel, payload, created_at, next_attempt_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, channel, _dumps(payload), now, now),
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a signal can land just after COMMIT succeeded: nothing to undo then
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _ids(db: sqlite3.Connection, fingerprints: Iterable[str] | None = None) -> dict[str, int]:
        if fingerprints is None:
            return dict(db.execute("SELECT fingerprint, id FROM alerts"))
        out: dict[str, int] = {}
        for fp in fingerprints:
            row = db.execute("SELECT id FROM alerts WHERE fingerprint=?", (fp,)).fetchone()
            if row:
                out[fp] = row[0]
        return out

    def alert_ids(self) -> dict[str, int]:
        """Map alert fingerprints to their stable integer ids."""
        return self._ids(self.db)

    def mark(
        self,
        row_id: int,
        status: str,
        *,
        attempts: int,
        next_at: float,
        error: str | None,
        sent_at: float | None,
        history: tuple[float, str, dict[str, Any]] | None = None,
    ) -> None:
        """Record a delivery attempt's outcome (and its history line) atomically."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "UPDATE outbox SET status=?, attempts=?, next_attempt_at=?, last_error=?, sent_at=? WHERE id=?",
            (status, attempts, next_at, error, sent_at, row_id),
        )
        if history:
            self.db.execute(
                "INSERT INTO history (ts, alert_id, kind, detail) VALUES (?, NULL, ?, ?)",
                (history[0], history[1], _dumps(history[2])),
            )
        self.db.execute("COMMIT")

    def fold_digest(self, channel: str, row_ids: list[int], payload: dict[str, Any], now: float) -> None:
        """Replace outbox rows by one digest row atomically."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("UPDATE outbox SET status='digested' WHERE id=?", [(i,) for i in row_ids])
        key = payload.setdefault("idempotency_key", uuid.uuid4().hex)
        self.db.execute(
            "INSERT INTO outbox (idempotency_key, channel, payload, created_at, next_attempt_at) VALUES (?,?,?,?,?)",
            (key, channel, _dumps(payload), now, now),
        )
        self.db.execute("COMMIT")

    def still_current(self, payload: dict[str, Any]) -> bool:
        """True while an alert of a notification is still in the state the notification announces."""
        for item in payload.get("alerts", []):
            row = self.db.execute("SELECT data FROM alerts WHERE fingerprint=?", (item.get("fingerprint"),)).fetchone()
            if row is None:
                continue
            state = orjson.loads(row[0])["state"]
            if (state == "firing") == (item.get("status") == "firing"):
                return True
        return False

    def requeue(self, row_ids: list[int] | None, now: float, by: str) -> list[int]:
        """Put dead outbox rows (all, or the given ids) back to pending, due now; return the ids requeued."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            dead = [i for (i,) in self.db.execute("SELECT id FROM outbox WHERE status='dead' ORDER BY id")]
            chosen = dead if row_ids is None else [i for i in dead if i in set(row_ids)]
            self.db.executemany(
                "UPDATE outbox SET status='pending', attempts=0, next_attempt_at=? WHERE id=?",
                [(now, i) for i in chosen],
            )
            if chosen:
                self.db.execute(
                    "INSERT INTO history (ts, alert_id, kind, detail) VALUES (?, NULL, 'requeue', ?)",
                    (now, _dumps({"outbox_ids": chosen, "by": by})),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return chosen

    def add_silence(self, matchers: list[list[str]], starts_at: float, ends_at: float, by: str, comment: str) -> int:
        """Store a silence and return its id."""
        cur = self.db.execute(
            "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment) VALUES (?,?,?,?,?)",
            (_dumps(matchers), starts_at, ends_at, by, comment),
        )
        self.db.execute(
            "INSERT INTO history (ts, alert_id, kind, detail) VALUES (?, NULL, 'silence', ?)",
            (
                starts_at,
                _dumps(
                    {
                        "silence_id": cur.lastrowid,
                        "matchers": matchers,
                        "ends_at": ends_at,
                        "by": by,
                        "comment": comment,
                    }
                ),
            ),
        )
        return int(cur.lastrowid or 0)

    def expire_silence(self, silence_id: int, now: float, by: str) -> None:
        """End a silence in force now and record who did it."""
        active = {s["id"] for s in self.silences(now)}
        if silence_id not in active:
            raise StateError(
                f"no silence #{silence_id} in force; in force: {', '.join(f'#{i}' for i in sorted(active)) or 'none'}"
            )
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("UPDATE silences SET ends_at=? WHERE id=?", (now, silence_id))
        self.db.execute(
            "INSERT INTO history (ts, alert_id, kind, detail) VALUES (?, NULL, 'silence_expired', ?)",
            (now, _dumps({"silence_id": silence_id, "by": by})),
        )
        self.db.execute("COMMIT")

    def add_ack(self, alert_id: int, ts: float, by: str, comment: str) -> int:
        """Store an acknowledgement for an existing alert and return its id."""
        if not self.db.execute("SELECT 1 FROM alerts WHERE id=?", (alert_id,)).fetchone():
            known = [str(i) for (i,) in self.db.execute("SELECT id FROM alerts ORDER BY id")]
            raise StateError(f"no alert with id {alert_id}; known ids: {', '.join(known) or 'none'}")
        cur = self.db.execute(
            "INSERT INTO acks (alert_id, ts, by, comment) VALUES (?,?,?,?)", (alert_id, ts, by, comment)
        )
        return int(cur.lastrowid or 0)
