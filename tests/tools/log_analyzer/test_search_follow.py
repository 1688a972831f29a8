"""``search --follow``: what is written, before and after starting, across rename and gzip, printed exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from benchmarks.record_generator import rotate
from crypto_observability.log_analyzer.filters import Filters
from crypto_observability.log_analyzer.search_files import SearchOptions
from crypto_observability.log_analyzer.search_follow import follow, start_following
from crypto_observability.log_analyzer.search_query import SearchQuery


class Done(Exception):
    """Raised by the scripted ``wait`` when the script has run out."""


def _line(n: int, service: str = "market-data", exchange: str = "okx") -> bytes:
    return orjson.dumps({"timestamp": f"2025-01-15T10:00:{n:02d}.000Z", "service": service, "module": "m",
                         "level": "INFO", "message": f"call {n}", "context": {"exchange": exchange}}) + b"\n"


def _append(path: Path, *lines: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(b"".join(lines))


def _script(*steps: Callable[[], None]) -> Callable[[], None]:
    """Return a ``wait`` that runs the next step each time the follower has nothing new, then stops."""
    pending = list(steps)

    def wait() -> None:
        if not pending:
            raise Done
        pending.pop(0)()
    return wait


def test_follow_prints_history_then_new_lines_across_rotation_and_gzip_exactly_once(tmp_path: Path) -> None:
    """Lines from before the start, after it, in a renamed-then-gzipped file and in its successor: each once."""
    active = tmp_path / "market-data.log"
    bot = tmp_path / "telegram-bot.log"
    _append(active, _line(0), _line(1, exchange="bybit"), _line(2))
    _append(bot, _line(3, "telegram-bot"))

    def rotate_mid_way() -> None:
        _append(active, _line(6))  # written to the old file just before it is renamed
        rotate(active, 1_736_935_206_500)  # renamed, gzipped, the plain copy removed: the library's rotation
        _append(active, _line(7), _line(8, exchange="bybit"), _line(9))

    wait = _script(lambda: _append(active, _line(4), _line(5)), rotate_mid_way,
                   lambda: _append(bot, _line(10, "telegram-bot")))
    def start_then_write(patterns: list[str]) -> tuple[Callable[[], list[bytes]], dict[Path, int]]:
        started = start_following(patterns)
        _append(active, _line(11))  # written after following began, before the files are searched
        return started

    query = SearchQuery.parse(Filters(), words=["context.exchange=okx"])
    seen = []
    with pytest.raises(Done):
        for hit in follow([str(tmp_path)], query, SearchOptions(), wait=wait, start=start_then_write):
            seen.append(orjson.loads(hit.raw)["message"])
    assert seen == ["call 0", "call 2", "call 3", "call 11", "call 4", "call 5", "call 6", "call 7", "call 9",
                    "call 10"]
    assert len(list(tmp_path.glob("market-data.log.*.gz"))) == 1


def test_follow_with_limit_starts_from_the_last_matches(tmp_path: Path) -> None:
    """--follow --limit N shows only the newest N records already written, oldest first, like tail -n."""
    _append(tmp_path / "s.log", *(_line(n) for n in range(6)))
    seen = []
    with pytest.raises(Done):
        for hit in follow([str(tmp_path)], SearchQuery(), SearchOptions(limit=2), wait=_script()):
            seen.append(orjson.loads(hit.raw)["message"])
    assert seen == ["call 4", "call 5"]
