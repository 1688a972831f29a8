"""The alert lifecycle: pending -> firing -> resolved, with flapping, inhibition, silences, acks and repeats.

    inactive --cond--> pending --held `for`--> firing --cond gone (+keep_firing_for)--> resolved
        ^                 |                       |  \\__ `threshold` fire/resolve changes in `window`:
        |__cond gone______|                       |      held open as FLAPPING, one "flapping" notice,
                                                  |      resolved only after `window` of stable quiet
    resolved --cond--> pending ...                 \\__ repeat every `repeat_interval` unless acknowledged

Notifications are decided from state, not from events: an alert that fires and is not yet
notified is sent (unless silenced or inhibited, which is recorded); a resolved alert whose
firing was notified is sent resolved. Every transition and notification goes into history,
and each notification becomes an outbox row in the same transaction as the state change.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from typing import Any

import orjson

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.rules_logs import Signal

History = tuple[float, str | None, str, dict[str, Any]]
MAX_CLOSED = 10_000  # closed alerts held beyond this are forgotten at once, oldest first (history keeps them)


def fingerprint(labels: dict[str, str]) -> str:
    """Return a stable identity for a label set."""
    return hashlib.blake2b(orjson.dumps(labels, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _selector_match(labels: dict[str, str], sel: dict[str, str | list[str]]) -> bool:
    return all(labels.get(k) in (v if isinstance(v, list) else [v]) for k, v in sel.items())


def silence_matches(labels: dict[str, str], matchers: list[list[str]]) -> bool:
    """True when every [label, op, value] matcher (op one of = != =~ !~) holds."""
    for name, op, value in matchers:
        got = labels.get(name, "")
        ok = {"=": got == value, "!=": got != value}.get(op)
        if ok is None:
            ok = bool(re.fullmatch(value, got)) == (op == "=~")
        if not ok:
            return False
    return True


class Engine:
    """Holds every alert in memory; the monitor commits what `drain()` returns."""

    def __init__(self, cfg: c.MonitorConfig, alerts: list[dict[str, Any]], max_closed: int = MAX_CLOSED) -> None:
        self.cfg = cfg
        self.rules = {r.name: r for r in cfg.rules}
        self.alerts: dict[str, dict[str, Any]] = {a["fingerprint"]: a for a in alerts}
        self.max_closed = max_closed
        self.open: dict[str, set[str]] = {}  # rule -> alerts that need a look each step (see _is_open)
        self.closed: deque[tuple[float, str]] = deque()  # (closed at, fingerprint), oldest first
        for a in sorted(self.alerts.values(), key=self._closed_time):
            if self._is_open(a):
                self.open.setdefault(a["rule"], set()).add(a["fingerprint"])
            else:
                a["_closed_at"] = self._closed_time(a)
                self.closed.append((a["_closed_at"], a["fingerprint"]))
        self.dirty: set[str] = set()
        self.evicted: set[str] = set()
        self._fps: dict[tuple[Any, ...], str] = {}  # (rule, *signal labels) -> fingerprint
        self._said: dict[str, int] = {}  # fingerprint -> hash of the raw summary and annotations last redacted
        self.history: list[History] = []
        self.outbox: list[tuple[str, dict[str, Any], float]] = []

    def drain(
        self,
    ) -> tuple[list[dict[str, Any]], list[History], list[tuple[str, dict[str, Any], float]], list[str]]:
        """Return and forget the changes since the last drain (changed alerts, history, outbox, evicted)."""
        out = (
            [self.alerts[fp] for fp in sorted(self.dirty) if fp in self.alerts],
            self.history,
            self.outbox,
            sorted(self.evicted),
        )
        self.dirty, self.history, self.outbox, self.evicted = set(), [], [], set()
        return out

    # -- bounded memory ------------------------------------------------------------------------
    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int = 16_384) -> Any:
        """Store in a memo that is emptied when it reaches `limit` entries."""
        if len(cache) >= limit:
            cache.clear()
        cache[key] = value
        return value

    @staticmethod
    def _closed_time(a: dict[str, Any]) -> float:
        return float(a.get("_closed_at") or a.get("ended_at") or a.get("last_active") or 0.0)

    @staticmethod
    def _is_open(a: dict[str, Any]) -> bool:
        """Still moving or still owed a notification: pending, firing, condition true, or resolved-not-sent."""
        return a["state"] in ("pending", "firing") or a["raw"] or a["flapping"] or a["notified"] == "firing"

    def _file(self, a: dict[str, Any], now: float) -> None:
        """Put an alert in its rule's open set, or queue it for eviction once closed."""
        fp, opened = a["fingerprint"], self.open.setdefault(a["rule"], set())
        if self._is_open(a):
            opened.add(fp)
        elif fp in opened or a.get("_closed_at") is None:
            opened.discard(fp)
            a["_closed_at"] = now
            self.closed.append((now, fp))

    def evict(self, now: float) -> None:
        """Forget closed alerts past `resolved_retention`, and the oldest beyond `max_closed`; history keeps them."""
        horizon = now - self.cfg.resolved_retention
        while self.closed and (self.closed[0][0] <= horizon or len(self.closed) > self.max_closed):
            at, fp = self.closed.popleft()
            a = self.alerts.get(fp)
            if a is None or a.get("_closed_at") != at or self._is_open(a):
                continue  # reopened (and maybe closed again later) since it was queued
            del self.alerts[fp]
            self._said.pop(fp, None)
            self.dirty.discard(fp)
            self.evicted.add(fp)

    def _log(self, now: float, a: dict[str, Any] | None, kind: str, **detail: Any) -> None:
        self.history.append((now, a["fingerprint"] if a else None, kind, detail))

    # -- acks ------------------------------------------------------------------------------
    def apply_ack(self, fp: str, ack: dict[str, Any]) -> None:
        """Acknowledge an alert: repeats stop until its state changes."""
        a = self.alerts.get(fp)
        if a is None:
            return
        a["acked"] = {"by": ack["by"], "comment": ack["comment"], "at": ack["ts"]}
        self.dirty.add(fp)
        self._log(ack["ts"], a, "ack", by=ack["by"], comment=ack["comment"])

    # -- lifecycle -------------------------------------------------------------------------
    def observe(self, results: dict[str, list[Signal]], now: float) -> None:
        """Fold each rule's currently true signals into alert states."""
        for name, signals in results.items():
            rc = self.rules[name]
            seen = set()
            for sig in signals:
                key = (name, *sig.labels.items())
                fp = self._fps.get(key)
                if fp is None:
                    labels = {"alertname": name, "rule_type": rc.type, "severity": rc.severity, **rc.labels}
                    fp = self._remember(self._fps, key, fingerprint({**labels, **sig.labels}))
                seen.add(fp)
                a = self.alerts.get(fp)
                if a is None:
                    labels = {"alertname": name, "rule_type": rc.type, "severity": rc.severity, **rc.labels}
                    labels = {k: redact(str(v)) for k, v in {**labels, **sig.labels}.items()}
                    a = self.alerts[fp] = self._new(fp, name, labels)
                    self.evicted.discard(fp)
                    self._said.pop(fp, None)
                a["_closed_at"] = None
                a["value"] = sig.value
                said = hash((sig.summary, *sig.annotations.items()))
                if self._said.get(fp) != said:  # redact only what changed (a signal is restated every step)
                    self._remember(self._said, fp, said)
                    a["annotations"] = {
                        **rc.annotations,
                        **{k: redact(v) for k, v in sig.annotations.items()},
                        "summary": redact(sig.summary),
                    }
                self._step(a, True, now, rc)
            opened = self.open.setdefault(name, set())
            for fp in sorted(opened - seen):
                a = self.alerts[fp]
                if a["state"] in ("pending", "firing") or a["raw"]:
                    self._step(a, False, now, rc)
            for fp in seen | opened:
                self._file(self.alerts[fp], now)

    @staticmethod
    def _new(fp: str, rule: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "fingerprint": fp,
            "rule": rule,
            "labels": labels,
            "annotations": {},
            "state": "inactive",
            "value": None,
            "raw": False,
            "raw_changed": 0.0,
            "active_since": None,
            "started_at": None,
            "ended_at": None,
            "last_active": None,
            "changes": [],
            "flapping": False,
            "flap_noticed": False,
            "acked": None,
            "notified": None,
            "last_notified_at": None,
            "suppressed": None,
        }

    def _step(self, a: dict[str, Any], active: bool, now: float, rc: Any) -> None:
        self.dirty.add(a["fingerprint"])
        if active:
            a["last_active"] = now
        if active != a["raw"]:
            a["raw"], a["raw_changed"] = active, now
        if a["flapping"]:
            if now - a["raw_changed"] >= self.cfg.flap.window:
                a["flapping"], a["flap_noticed"] = False, False
                self._log(now, a, "flapping_ended", active=active)
                if not active:
                    self._move(a, "resolved", now)
            return
        state = a["state"]
        if active:
            if state in ("inactive", "resolved"):
                a["active_since"] = now
                self._move(a, "pending", now)
                state = "pending"
            if state == "pending" and now - a["active_since"] >= rc.for_:
                self._move(a, "firing", now)
        elif state == "pending":
            self._move(a, "inactive", now)
        elif state == "firing" and now - (a["last_active"] or now) >= rc.keep_firing_for:
            self._move(a, "resolved", now)

    def _move(self, a: dict[str, Any], new: str, now: float) -> None:
        old, a["state"], a["acked"] = a["state"], new, None
        self._log(now, a, "transition", old=old, new=new, value=a["value"], summary=a["annotations"].get("summary", ""))
        if new == "firing":
            a["started_at"], a["ended_at"] = now, None
        if new == "resolved":
            a["ended_at"] = now
        if new not in ("firing", "resolved") or a["flapping"]:
            return
        flap = self.cfg.flap
        a["changes"] = [t for t in a["changes"] if t > now - flap.window] + [now]
        if len(a["changes"]) >= flap.threshold:
            a["flapping"], a["state"], a["ended_at"] = True, "firing", None
            self._log(now, a, "flapping_started", changes=len(a["changes"]), window=flap.window)

    # -- notifications ---------------------------------------------------------------------
    def notify(self, now: float, silences: list[dict[str, Any]]) -> None:
        """Queue the notifications the current states call for, grouped per channel and group."""
        inhibitors = self._inhibitors()
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        candidates = sorted(set().union(*self.open.values()) if self.open else set())
        for fp in candidates:
            a = self.alerts[fp]
            rc = self.rules.get(a["rule"])
            reason = self._reason(a, now, rc)
            if rc is None or reason is None:
                continue
            why = self._suppressed_by(a, inhibitors, silences)
            if why:
                if a["suppressed"] != why:
                    a["suppressed"] = why
                    self.dirty.add(fp)
                    self._log(now, a, "suppressed", reason=reason, by=why)
                continue
            a["suppressed"] = None
            cooldown = rc.cooldown if rc.cooldown is not None else self.cfg.defaults.cooldown
            if reason == "firing" and a["last_notified_at"] and now - a["last_notified_at"] < cooldown:
                continue
            a["notified"] = "firing" if a["state"] == "firing" else "resolved"
            a["last_notified_at"] = now
            a["flap_noticed"] = a["flap_noticed"] or reason == "flapping"
            self.dirty.add(fp)
            by = rc.group_by or self.cfg.defaults.group_by
            gkey = ",".join(f"{k}={a['labels'].get(k, '')}" for k in by)
            for ch in rc.channels or self.cfg.defaults.channels:
                groups.setdefault((ch, gkey, reason), []).append(a)
            self._log(now, a, "notification", reason=reason, channels=rc.channels or self.cfg.defaults.channels)
        for (ch, gkey, reason), alerts in groups.items():
            self.outbox.append((ch, self._payload(ch, gkey, reason, alerts, now), now))
        for fp in candidates:
            self._file(self.alerts[fp], now)
        self.evict(now)

    def _reason(self, a: dict[str, Any], now: float, rc: Any) -> str | None:
        if a["state"] == "firing":
            if a["flapping"] and not a["flap_noticed"]:
                return "flapping"
            if a["notified"] != "firing":
                return "firing"
            repeat = rc.repeat_interval if rc and rc.repeat_interval is not None else self.cfg.defaults.repeat_interval
            if not a["acked"] and now - (a["last_notified_at"] or now) >= repeat:
                return "repeat"
            return None
        if a["notified"] == "firing":
            return "resolved"
        return None

    def _inhibitors(self) -> list[tuple[c.Inhibit, dict[str, Any]]]:
        firing = [self.alerts[fp] for fps in self.open.values() for fp in fps]
        return [
            (rule, a)
            for rule in self.cfg.inhibit
            for a in firing
            if a["state"] == "firing" and _selector_match(a["labels"], rule.source)
        ]

    def _suppressed_by(
        self, a: dict[str, Any], inhibitors: list[tuple[c.Inhibit, dict[str, Any]]], silences: list[dict[str, Any]]
    ) -> str | None:
        labels = a["labels"]
        for rule, src in inhibitors:
            if (
                src is not a
                and _selector_match(labels, rule.target)
                and all(labels.get(k) == src["labels"].get(k) for k in rule.equal)
            ):
                return f"inhibited by {src['labels']['alertname']} ({src['annotations'].get('summary', '')})"
        for s in silences:
            if silence_matches(labels, s["matchers"]):
                return f"silenced by #{s['id']} ({s['comment']})"
        return None

    def _payload(self, ch: str, gkey: str, reason: str, alerts: list[dict[str, Any]], now: float) -> dict[str, Any]:
        items = [
            {
                "status": "firing" if a["state"] == "firing" else "resolved",
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": _iso(a["started_at"]),
                "endsAt": _iso(a["ended_at"]),
                "fingerprint": a["fingerprint"],
                "value": a["value"],
                "flapping": a["flapping"],
            }
            for a in alerts
        ]
        common = {k: v for k, v in items[0]["labels"].items() if all(i["labels"].get(k) == v for i in items)}
        return {
            "version": "1",
            "channel": ch,
            "status": "firing" if any(i["status"] == "firing" for i in items) else "resolved",
            "notification_reason": reason,
            "groupKey": gkey,
            "commonLabels": common,
            "alerts": items,
            "created_at": _iso(now),
        }
