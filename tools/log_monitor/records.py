"""Turn raw lines (our JSON records, or Docker json-file wrappers of them) into dicts with an epoch time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

TS_KEY = "_ts"


class RecordParser:
    """Parse lines, counting the ones that are not records; memoises timestamp parsing per second."""

    def __init__(self) -> None:
        self.parse_errors = 0
        self.newest_ts = 0.0
        self._seconds: dict[str, float] = {}

    def epoch(self, stamp: str) -> float:
        """Return epoch seconds for an RFC 3339 'YYYY-MM-DDTHH:MM:SS.mmmZ' timestamp."""
        head = stamp[:19]
        base = self._seconds.get(head)
        if base is None:
            base = datetime.fromisoformat(head + "+00:00").timestamp()
            if len(self._seconds) > 4096:
                self._seconds.clear()
            self._seconds[head] = base
        frac = stamp[20:23]
        return base + (int(frac) / 1000.0 if frac.isdigit() else 0.0)

    def parse(self, lines: list[bytes]) -> list[dict[str, Any]]:
        """Return the records among `lines`, each with `_ts` set; bad lines are counted and skipped."""
        out = []
        loads = orjson.loads
        for line in lines:
            try:
                rec = loads(line)
                if "timestamp" not in rec and "log" in rec:
                    rec = loads(rec["log"])
                rec[TS_KEY] = self.epoch(rec["timestamp"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                self.parse_errors += 1
                continue
            out.append(rec)
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
