"""Turn raw lines (our JSON records, or Docker json-file wrappers of them) into dicts with an epoch time.

A `Batch` is the parsed records plus indexes built in ONE shared pass (by service, level and event, a
count per service, level and second, the newest time per service), so each rule touches only the
records it cares about.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

TS_KEY = "_ts"
_MILLIS = {f"{ms:03d}": ms / 1000.0 for ms in range(1000)}


class RecordParser:
    """Parse lines, counting the ones that are not records; memoises timestamp parsing per second."""

    def __init__(self) -> None:
        self.parse_errors = 0
        self.newest_ts = 0.0
        self._seconds: dict[str, float] = {}

    def _second(self, head: str) -> float:
        base = datetime.fromisoformat(head + "+00:00").timestamp()
        if len(self._seconds) > 4096:
            self._seconds.clear()
        self._seconds[head] = base
        return base

    def epoch(self, stamp: str) -> float:
        """Return epoch seconds for an RFC 3339 'YYYY-MM-DDTHH:MM:SS.mmmZ' timestamp."""
        head = stamp[:19]
        base = self._seconds.get(head)
        if base is None:
            base = self._second(head)
        return base + _MILLIS.get(stamp[20:23], 0.0)

    def parse(self, lines: list[bytes]) -> Batch:
        """Return the records among `lines`, each with `_ts` set; bad lines are counted and skipped."""
        out = Batch()
        loads, seconds, millis, append = orjson.loads, self._seconds, _MILLIS, out.append
        for line in lines:  # hot path: `epoch` inlined
            try:
                rec = loads(line)
                if "timestamp" not in rec and "log" in rec:
                    rec = loads(rec["log"])
                stamp = rec["timestamp"]
                head = stamp[:19]
                base = seconds.get(head)
                if base is None:
                    base = self._second(head)
                rec[TS_KEY] = base + millis.get(stamp[20:23], 0.0)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                self.parse_errors += 1
                continue
            append(rec)
        if out:
            self.newest_ts = max(self.newest_ts, out[-1][TS_KEY])
        return out


def field(record: dict[str, Any], dotted: str) -> Any:
    """Return the value at a dotted path like 'context.response_time_ms', or None."""
    cur: Any = record
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


Record = dict[str, Any]


def _hashable(value: Any) -> Any:
    """Return `value` as a dict key: JSON lists and objects become their text."""
    try:
        hash(value)
    except TypeError:
        return orjson.dumps(value).decode()
    return value


class Batch(list[Record]):
    """Records of one batch with lazily built shared indexes; a plain list everywhere else.

    Read-only once a rule has read it: the indexes are built on first use and not updated.
    """

    _index: dict[str, dict[Any, list[Record]]] | None = None
    _tally: dict[tuple[Any, Any, int], int] | None = None
    _newest: dict[Any, float] | None = None

    @classmethod
    def of(cls, records: Iterable[Record]) -> Batch:
        """Return `records` itself if it is a Batch, else a Batch of them."""
        return records if isinstance(records, Batch) else cls(records)

    def _build(self) -> None:
        """The shared pass: index by service, level and event; count per (service, level, second)."""
        svc: dict[Any, list[Record]] = {}
        lvl: dict[Any, list[Record]] = {}
        evt: dict[Any, list[Record]] = {}
        tally: dict[tuple[Any, Any, int], int] = {}
        newest: dict[Any, float] = {}
        for rec in self:
            s, lv, e, ts = rec.get("service"), rec.get("level"), rec.get("event"), rec[TS_KEY]
            try:
                k = (s, lv, int(ts))
                hash(e)
                tally[k] = tally.get(k, 0) + 1
            except TypeError:  # a list or object where a string belongs: indexed by its JSON text
                s, lv, e = _hashable(s), _hashable(lv), _hashable(e)
                k = (s, lv, int(ts))
                tally[k] = tally.get(k, 0) + 1
            group = svc.get(s)
            if group is None:
                svc[s] = [rec]
                newest[s] = ts
            else:
                group.append(rec)
                if ts > newest[s]:
                    newest[s] = ts
            group = lvl.get(lv)
            if group is None:
                lvl[lv] = [rec]
            else:
                group.append(rec)
            group = evt.get(e)
            if group is None:
                evt[e] = [rec]
            else:
                group.append(rec)
        self._index = {"service": svc, "level": lvl, "event": evt}
        self._tally, self._newest = tally, newest

    @property
    def tally(self) -> dict[tuple[Any, Any, int], int]:
        """Record count per (service, level, whole epoch second)."""
        if self._tally is None:
            self._build()
        assert self._tally is not None
        return self._tally

    def newest(self, service: str) -> float | None:
        """The newest record time of `service` in this batch, if it has any."""
        if self._newest is None:
            self._build()
        assert self._newest is not None
        return self._newest.get(service)

    def by_field(self, field: str) -> dict[Any, list[Record]]:
        """Records grouped by a top-level field's value (built once per batch and field)."""
        if self._index is None:
            self._build()
        assert self._index is not None
        found = self._index.get(field)
        if found is None:
            found = self._index[field] = {}
            for rec in self:
                found.setdefault(_hashable(rec.get(field)), []).append(rec)
        return found

    def having(self, field: str, values: Iterable[Any]) -> list[Record]:
        """Records whose top-level `field` is one of `values` (grouped by value, each group in batch order)."""
        idx = self.by_field(field)
        return [r for v in values for r in idx.get(_hashable(v), ())]
