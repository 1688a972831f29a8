"""A pre-fork server (gunicorn-style) forks after logging is set up: children still log, once."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

import orjson

from crypto_observability.shared.logging_config import ensure_pipeline, shutdown_logging
from crypto_observability.shared.settings import LogSettings
from crypto_observability.shared.structured_logger import create_structured_logger


def _child(worker: int) -> None:
    slog = create_structured_logger("market-data", "worker")  # same pipeline object, inherited
    for seq in range(200):
        slog.info("tick", worker=worker, seq=seq)
    logging.shutdown()


def test_loggers_made_before_a_fork_write_from_the_children(tmp_path: Path) -> None:
    """Every line of every forked worker arrives, whole and once, beside the parent's own."""
    ensure_pipeline(LogSettings(log_dir=tmp_path, console=False, monitoring=False))
    parent = create_structured_logger("market-data", "worker")
    parent.info("before fork", worker=0, seq=0)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_child, args=(n,)) for n in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(30)
        assert process.exitcode == 0
    shutdown_logging()
    records = [orjson.loads(line) for line in (tmp_path / "market-data.log").read_bytes().splitlines()]
    seen = sorted((r["context"]["worker"], r["context"]["seq"]) for r in records)
    assert seen == [(0, 0)] + [(w, s) for w in (1, 2) for s in range(200)]
