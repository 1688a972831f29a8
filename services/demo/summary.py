"""What happened, read back from the logs alone: the short summary `make demo` prints."""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


@dataclass
class Summary:
    """Counts a person wants after the run, and the secrets that must not be there."""

    lines: Counter[str] = field(default_factory=Counter)
    levels: Counter[tuple[str, str]] = field(default_factory=Counter)
    commands: Counter[bool] = field(default_factory=Counter)
    security: Counter[str] = field(default_factory=Counter)
    rate_limits: Counter[str] = field(default_factory=Counter)
    exchange_calls: Counter[str] = field(default_factory=Counter)
    exchange_failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    slow_calls: Counter[str] = field(default_factory=Counter)
    http_status: Counter[int] = field(default_factory=Counter)
    partial_answers: int = 0
    journeys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    leaks: list[str] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        """Count one record."""
        service, event, ctx = record.get("service", "?"), record.get("event"), record.get("context") or {}
        self.lines[service] += 1
        self.levels[(service, record.get("level", "?"))] += 1
        if record.get("request_id"):
            self.journeys[record["request_id"]].add(service)
        if event == "bot_command":
            self.commands[bool(ctx.get("success"))] += 1
        elif event == "security_event":
            self.security[str(ctx.get("kind"))] += 1
        elif event == "rate_limit_hit":
            self.rate_limits[str(ctx.get("exchange") or ctx.get("scope"))] += 1
        elif event == "exchange_api_call":
            exchange = str(ctx.get("exchange"))
            self.exchange_calls[exchange] += 1
            if not ctx.get("success", True):
                self.exchange_failures[(exchange, str(ctx.get("error_type")))] += 1
            if float(ctx.get("response_time_ms") or 0) > 1000:
                self.slow_calls[exchange] += 1
        elif event == "http_request":
            self.http_status[int(ctx.get("status_code") or 0)] += 1
        elif event == "oi_aggregation" and ctx.get("partial"):
            self.partial_answers += 1

    @property
    def cross_service_journeys(self) -> int:
        """Request ids seen in both services: one journey, one id."""
        return sum(1 for services in self.journeys.values() if len(services) > 1)


def raw_ids_in(value: Any, raw_user_ids: Collection[int]) -> set[int]:
    """The raw user ids found in a record's structure: as an int value or key, or a whole token of a string.

    A token is delimited like a number in text: "user 100001 said", "Chat(id=100001," and "100001"
    hold the id; a hex request id "3fa100001b", a price "100001.5" or "v1000010" do not.
    """
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if item in raw_user_ids:
                found.add(item)
        elif isinstance(item, str):
            found.update(int(token) for token in _NUMBER_TOKEN.findall(item) if int(token) in raw_user_ids)
    return found


_NUMBER_TOKEN = re.compile(r"(?<![\w.])(\d+)(?![\w]|\.\d)")  # a whole number, not part of a word, id or decimal


def summarise(log_dir: Path, secrets: list[str], raw_user_ids: list[int]) -> Summary:
    """Read the logs once; check that no secret is in their text and no raw user id in their records."""
    summary = Summary()
    leaked: set[int] = set()
    wanted = frozenset(raw_user_ids)
    texts = []
    for path in sorted(log_dir.glob("*.log*")):
        text = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).decode(
            "utf-8", "replace")
        texts.append(text)
        for line in text.splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                record = line  # a line that is not a record is still searched, as one string
            if isinstance(record, dict):
                summary.add(record)
            leaked |= raw_ids_in(record, wanted)
    summary.leaks = [s[:6] + "…" for s in secrets if s and any(s in text for text in texts)]
    summary.leaks += [f"user id {uid}" for uid in sorted(leaked)]
    return summary
