"""What happened, read back from the logs alone: the short summary `make demo` prints."""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


def read_records(log_dir: Path) -> Iterator[dict[str, Any]]:
    """Every record of every service file, rotated .gz files included, bad lines skipped."""
    for path in sorted(log_dir.glob("*.log*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            for line in handle:
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue


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


def summarise(log_dir: Path, secrets: list[str], raw_user_ids: list[int]) -> Summary:
    """Read the logs once; check that no secret and no raw user id is in them."""
    summary = Summary()
    for record in read_records(log_dir):
        summary.add(record)
    text = b"".join(p.read_bytes() if p.suffix != ".gz" else gzip.decompress(p.read_bytes())
                    for p in sorted(log_dir.glob("*.log*"))).decode("utf-8", "replace")
    summary.leaks = [s[:6] + "…" for s in secrets if s and s in text]
    for uid in raw_user_ids:
        if re.search(rf'(?<![\d.]){uid}(?![\d.])', text):
            summary.leaks.append(f"user id {uid}")
    return summary
