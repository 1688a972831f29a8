"""Test helpers shipped as public API: capture the records a block of code logs.

    with capture_logs() as logs:
        slog.info("hello", symbol="BTC-USDT")
    assert logs.records[0]["context"]["symbol"] == "BTC-USDT"
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from .logging_config import ensure_pipeline, shutdown_logging
from .pipeline import Pipeline
from .settings import LEVELS, LogSettings


class CapturedLogs:
    """The records written while capturing, parsed back from the JSON lines themselves."""

    def __init__(self, pipeline: Pipeline, buffer: io.BytesIO) -> None:
        self.pipeline = pipeline
        self._buffer = buffer

    @property
    def lines(self) -> list[bytes]:
        """Every rendered line so far, exactly as it would reach stdout."""
        self.pipeline.flush()
        return self._buffer.getvalue().splitlines()

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record so far, parsed."""
        return [orjson.loads(line) for line in self.lines]

    def find(self, **fields: Any) -> list[dict[str, Any]]:
        """Records whose top-level keys (or context keys) equal the given values."""
        return [r for r in self.records
                if all(r.get(k, (r.get("context") or {}).get(k)) == v for k, v in fields.items())]


@contextmanager
def capture_logs(level: str = "DEBUG", settings: LogSettings | None = None) -> Iterator[CapturedLogs]:
    """Route all logging of the block into memory (no files), then restore a clean state."""
    shutdown_logging()
    base = settings or LogSettings(monitoring=False)
    chosen = replace(base, level=LEVELS[level.upper()], console=True, file=False, format="json")
    buffer = io.BytesIO()
    pipeline = ensure_pipeline(chosen, console=buffer)
    try:
        yield CapturedLogs(pipeline, buffer)
    finally:
        pipeline.flush()
        shutdown_logging()


SCHEMA_PATH = Path(__file__).parent / "schema" / "log_record.schema.json"
SEED_ORDER = ("timestamp", "service", "module", "level", "message", "context", "docker_container",
              "git_commit", "environment", "performance")
OPTIONAL_ORDER = ("event", "logger", "request_id", "trace_id", "span_id", "user", "error", "exception")


def validate_record(record: dict[str, Any]) -> None:
    """Raise if a record breaks the JSON Schema or the fixed key order (needs jsonschema)."""
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(record)
    keys = list(record)
    expected = [k for k in SEED_ORDER if k in record] + [k for k in OPTIONAL_ORDER if k in record]
    if keys != expected:
        raise ValueError(f"keys out of order: {keys}, expected {expected}")


class FakeClock:
    """A clock that moves only when told to: call it for epoch seconds, advance() to move on."""

    def __init__(self, start: float = 1_736_937_000.0) -> None:  # 2025-01-15T10:30:00Z, the seed's example
        self.now = float(start)

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        self.now += seconds
        return self.now
