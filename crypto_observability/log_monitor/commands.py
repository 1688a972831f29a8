"""Library functions behind each CLI command; the CLI only parses arguments and renders results."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor.clock import system_clock
from crypto_observability.log_monitor.config import parse_duration
from crypto_observability.log_monitor.errors import ConfigError, NotifyError
from crypto_observability.log_monitor.notifiers import DeliveryResult, Notifier, build_notifiers
from crypto_observability.log_monitor.store import Store

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def parse_matchers(text: str) -> list[list[str]]:
    """Parse 'service=market-data,alertname=~.*latency.*' into [label, op, value] triples."""
    out = []
    for part in [p for p in text.split(",") if p.strip()]:
        m = _MATCHER.match(part)
        if not m:
            raise ConfigError(
                f"matcher {part!r} is not valid; use label=value, label!=value, label=~regex or "
                "label!~regex, separated by commas"
            )
        if m.group(2) in ("=~", "!~"):
            try:
                re.compile(m.group(3))
            except re.error as exc:
                raise ConfigError(f"matcher {part!r}: {m.group(3)!r} is not a valid regex ({exc})") from None
        out.append([m.group(1), m.group(2), m.group(3)])
    if not out:
        raise ConfigError("at least one matcher is needed, e.g. service=market-data")
    return out


def silence(
    store: Store, matchers: str, duration: str, *, by: str, comment: str, clock: Callable[[], float] = system_clock
) -> dict[str, Any]:
    """Create a silence for `duration` (e.g. '2h') and return it."""
    try:
        seconds = float(parse_duration(duration))
    except ValueError as exc:
        raise ConfigError(f"--for: {exc}") from None
    now = clock()
    parsed = parse_matchers(matchers)
    sid = store.add_silence(parsed, now, now + seconds, by, comment)
    return {"id": sid, "matchers": parsed, "starts_at": now, "ends_at": now + seconds}


def ack(store: Store, alert_id: int, *, by: str, comment: str, clock: Callable[[], float] = system_clock) -> int:
    """Acknowledge alert `alert_id`: its repeats stop until its state changes."""
    return store.add_ack(alert_id, clock(), by, comment)


def status(store: Store, clock: Callable[[], float] = system_clock) -> dict[str, Any]:
    """Return self-monitoring figures, open alerts, rule notes and outbox counts."""
    now = clock()
    selfmon = store.get("self", {}) or {}
    hb = selfmon.get("heartbeat")
    newest = selfmon.get("newest_ts")
    rules = {}
    for (key,) in store.db.execute("SELECT key FROM kv WHERE key LIKE 'rule:%'"):
        note = (store.get(key) or {}).get("status")
        if note:
            rules[key[5:]] = note
    counts = dict(store.db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    return {
        "heartbeat_age_s": None if hb is None else now - hb,
        "lag_s": None if newest is None else (hb or now) - newest,
        "lines": selfmon.get("lines", 0),
        "parse_errors": selfmon.get("parse_errors", 0),
        "future_ts": selfmon.get("future_ts", 0),
        "files": selfmon.get("files", 0),
        "follower": selfmon.get("follower", {}),
        "alerts": [a for a in store.alerts() if a["state"] in ("pending", "firing")],
        "rules": rules,
        "outbox": counts,
        "silences": store.silences(now),
    }


def history(store: Store, limit: int = 50, alert_id: int | None = None) -> list[dict[str, Any]]:
    """Return the newest history rows, each with its alert's rule and labels while the alert is held."""
    known = {a["id"]: a for a in store.alerts()}
    rows = store.history(limit, alert_id)
    for row in rows:
        a = known.get(row["alert_id"])
        row["rule"], row["labels"] = (a["rule"], a["labels"]) if a else (None, None)
    return rows


def silences(store: Store, clock: Callable[[], float] = system_clock) -> list[dict[str, Any]]:
    """Return the silences in force now."""
    return store.silences(clock())


def expire(store: Store, silence_id: int, *, by: str, clock: Callable[[], float] = system_clock) -> None:
    """End a silence now (raises StateError for an unknown or already ended one)."""
    store.expire_silence(silence_id, clock(), by)


def test_notify(
    cfg: c.MonitorConfig,
    channel: str,
    environ: Mapping[str, str] | None = None,
    notifiers: dict[str, Notifier] | None = None,
) -> DeliveryResult:
    """Send a sample notification through one channel right now."""
    if channel not in cfg.channels:
        raise NotifyError(f"channel {channel!r} is not configured; configured: {', '.join(sorted(cfg.channels))}")
    built = notifiers or build_notifiers(cfg, os.environ if environ is None else environ)
    sample = {
        "version": "1",
        "channel": channel,
        "status": "firing",
        "notification_reason": "test",
        "groupKey": "test",
        "commonLabels": {"alertname": "log_monitor_test"},
        "idempotency_key": os.urandom(8).hex(),
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "log_monitor_test", "severity": "info"},
                "annotations": {"summary": "test notification from log-monitor"},
                "startsAt": None,
                "endsAt": None,
                "fingerprint": "test",
                "id": 0,
                "flapping": False,
                "value": None,
            }
        ],
    }
    return built[channel].send(sample)


def check_config(path: str, environ: Mapping[str, str] | None = None) -> c.MonitorConfig:
    """Load and validate a config file, and check what `run` needs of the machine; nothing is created."""
    env = dict(os.environ if environ is None else environ)
    cfg = c.load_config(path, env)
    c.preflight(cfg, env)
    return cfg


def retry(
    store: Store, outbox_ids: list[int] | None = None, *, by: str, clock: Callable[[], float] = system_clock
) -> list[int]:
    """Requeue dead notifications (all, or the given outbox ids) for delivery now; return the ids requeued."""
    return store.requeue(outbox_ids, clock(), by)
