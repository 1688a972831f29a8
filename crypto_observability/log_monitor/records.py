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


DOCKER_PARTIAL_MAX = 8 << 20  # a reassembled Docker record longer than this is dropped and counted


class RecordParser:
    """Parse lines, counting the ones that are not records; memoises timestamp parsing per second.

    A record's own time is trusted up to `max_skew` seconds ahead of the monitor's clock; a record
    stamped further in the future is counted (`future_ts`) and placed at the monitor's time, so
    one line stamped 2099 cannot pin a window open. Docker json-file splits a record longer than
    16 KB into chunks whose `log` lacks the final newline: they are joined (per stream) before parsing,
    and `pending` (JSON-able) carries an unfinished record across batches.
    """

    def __init__(self, max_skew: float = 300.0) -> None:
        self.parse_errors = 0
        self.future_ts = 0
        self.newest_ts = 0.0
        self.max_skew = max_skew
        self.pending: dict[str, str] = {}
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

    def _docker(self, wrapper: dict[str, Any]) -> Any:
        """The record inside a Docker json-file line, or None while its chunks are still arriving."""
        chunk, stream = wrapper["log"], str(wrapper.get("stream", ""))
        if not isinstance(chunk, str):
            raise TypeError("Docker `log` is not a string")
        held = self.pending.pop(stream, None)
        text = chunk if held is None else held + chunk
        if not text.endswith("\n"):
            if len(text) > DOCKER_PARTIAL_MAX:
                raise ValueError("Docker partial record too long")
            self.pending[stream] = text
            return None
        return orjson.loads(text)

    def parse(self, lines: list[bytes], now: float | None = None) -> Batch:
        """Return the records among `lines`, each with `_ts` set; bad lines are counted and skipped."""
        out = Batch()
        loads, seconds, millis, append = orjson.loads, self._seconds, _MILLIS, out.append
        horizon = float("inf") if now is None else now + self.max_skew
        for line in lines:  # hot path: `epoch` inlined
            try:
                rec = loads(line)
                if "timestamp" not in rec and "log" in rec:
                    rec = self._docker(rec)
                    if rec is None:
                        continue
                stamp = rec["timestamp"]
                head = stamp[:19]
                base = seconds.get(head)
                if base is None:
                    base = self._second(head)
                ts = base + millis.get(stamp[20:23], 0.0)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                self.parse_errors += 1
                continue
            if ts > horizon:
                self.future_ts += 1
                ts = now  # type: ignore[assignment]
            rec[TS_KEY] = ts
            append(rec)
        if out:
            self.newest_ts = max(self.newest_ts, max(r[TS_KEY] for r in out))
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
