"""What changed: deploys, restarts and configuration changes, the markers on every timeline.

    deploy         a service's records start carrying a new ``git_commit`` (at its first record with it)
    restart        a process started: its ``config_loaded`` record, which every service (and log-monitor)
                   writes once at start with ``context.config_hash``
    config change  a ``config_loaded`` whose ``config_hash`` differs from the previous one of that component

A commit that comes back after another (a rollback) is marked once, at its first appearance.
"""

from __future__ import annotations

from typing import Any

from crypto_observability.log_analyzer._util import iso, summary
from crypto_observability.log_analyzer.engine import Dataset

DEPLOY, RESTART, CONFIG = "deploy", "restart", "config change"


def _deploys(ds: Dataset) -> list[dict[str, Any]]:
    rows = ds.rows(f"SELECT service, git_commit, min(first) AS first FROM {summary(ds, 'commits')} "
                   "GROUP BY ALL ORDER BY service, first, git_commit")
    out: list[dict[str, Any]] = []
    previous: dict[str, str] = {}
    for service, commit, first in rows:
        if service in previous:
            out.append({"ts": first, "service": service, "kind": DEPLOY,
                        "detail": f"commit {previous[service]} -> {commit}"})
        previous[service] = commit
    return out


def _starts(ds: Dataset) -> list[dict[str, Any]]:
    rows = ds.rows(f"SELECT ts, service, coalesce(component, service), config_hash FROM {summary(ds, 'starts')} "
                   "ORDER BY ts, seq")
    out: list[dict[str, Any]] = []
    hashes: dict[str, str | None] = {}
    for moment, service, component, digest in rows:
        out.append({"ts": moment, "service": service, "kind": RESTART,
                    "detail": f"{component} started, config {digest or 'unknown'}"})
        before = hashes.get(component)
        if before is not None and digest != before:
            out.append({"ts": moment, "service": service, "kind": CONFIG,
                        "detail": f"{component} config {before} -> {digest}"})
        hashes[component] = digest
    return out


def find_changes(ds: Dataset) -> list[dict[str, Any]]:
    """Return the deploys, restarts and configuration changes in the records, in time order."""
    found = sorted(_deploys(ds) + _starts(ds), key=lambda c: (c["ts"], c["service"], c["kind"]))
    return [{"time": iso(c.pop("ts")), **c} for c in found]
