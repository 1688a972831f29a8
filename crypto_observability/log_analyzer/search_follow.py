"""``search --follow``: the matches already written, then each new matching record as it is written.

New lines come from log-monitor's follower (``crypto_observability.log_monitor.follower``), the project's one file
follower: it keeps reading a renamed file to its end, then the new active file, compressed or not, so no
line is lost or repeated across rotation. ``start_following`` is the only code that talks to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson

from crypto_observability.log_analyzer.search_files import Hit, SearchOptions, SearchStats, search
from crypto_observability.log_analyzer.search_query import SearchQuery
from crypto_observability.log_analyzer.sources import ROTATED, LogFile, resolve_inputs

Poll = Callable[[], list[bytes]]


def start_following(patterns: list[str]) -> tuple[Poll, dict[Path, int]]:
    """Start following at the end of each active file; return the poll and where following starts, per file.

    The adapter over the follower's public API: ``Follower(patterns, start_at="end")``, ``poll()`` and its
    streams' offsets. Lines written before those offsets are the search's, lines after them the follower's.
    """
    from crypto_observability.log_monitor.follower import Follower

    follower = Follower(patterns, start_at="end")
    follower.poll()  # places each stream at its file's end; what it returns is also before the offsets below
    starts = {Path(s.path).resolve(): s.offset for s in follower.streams}
    return follower.poll, starts


def follow_patterns(specs: Iterable[str], files: list[LogFile]) -> list[str]:
    """Return the globs to follow: ``*.log`` in every directory given or holding an active file."""
    dirs = {Path(s).expanduser().resolve() for s in specs if Path(s).expanduser().is_dir()}
    dirs |= {f.path.parent for f in files if not f.compressed and not ROTATED.search(f.path.name)}
    return sorted(str(d / "*.log") for d in dirs)


def hit_from_line(query: SearchQuery, raw: bytes) -> Hit | None:
    """Return the hit of one followed line when it is a matching record (Docker json-file lines unwrapped)."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(record, dict) and "timestamp" not in record and isinstance(record.get("log"), str):
        raw = record["log"].rstrip("\n").encode()
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(record, dict) or not isinstance(record.get("timestamp"), str) or not query.matches(record):
        return None
    return Hit(record["timestamp"], 0, 0, raw, True, "")


def follow(specs: list[str], query: SearchQuery, options: SearchOptions, stats: SearchStats | None = None,
           wait: Callable[[], None] | None = None, start: Callable[[list[str]], tuple[Poll, dict[Path, int]]]
           = start_following) -> Iterator[Hit]:
    """Yield the matches already written (the last ``limit`` of them), then new ones until ``wait`` raises.

    ``wait`` runs whenever no new line has come (default: sleep half a second); it is where a test acts.
    """
    files = resolve_inputs(specs)
    poll, starts = start(follow_patterns(specs, files))
    history = replace(options, stop_at=starts, reverse=options.limit is not None, context=0)
    found = list(search(specs, query, history, stats, files))
    yield from reversed(found) if history.reverse else found
    wait = wait or (lambda: time.sleep(0.5))
    while True:
        lines = poll()
        if not lines:
            wait()
            continue
        hits = [h for h in (hit_from_line(query, line) for line in lines) if h is not None]
        yield from sorted(hits, key=lambda h: h.ts)
