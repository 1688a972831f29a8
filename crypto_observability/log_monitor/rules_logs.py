"""Rules computed from log records: error rate, percentile, match, absence, new fingerprint, baseline.

Each rule keeps its windows in a JSON-able `state` dict that the monitor commits with the offsets,
so a restart neither loses a window nor counts a line twice. Windows are time buckets keyed by the
records' own timestamps and evaluated against the injected clock. Rules read a `Batch`: its shared
pass (per-service/level/event indexes and per-second counts) replaces a loop over every record in
every rule; counting rules fold the per-second counts, filtering rules visit only their records.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.records import TS_KEY, Batch
from crypto_observability.log_monitor.records import field as get_field

Record = dict[str, Any]


@dataclass
class Signal:
    """One currently true condition of a rule, for one label set."""

    labels: dict[str, str]
    value: float
    summary: str
    annotations: dict[str, str] = field(default_factory=dict)


class Rule(Protocol):
    """Fold a batch of records into `state` and return the conditions true at `now`."""

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]: ...


def _bucket_size(window: float) -> float:
    return max(1.0, window / 60.0)


def _key(rec: Record, by: list[str]) -> str:
    return "|".join(str(get_field(rec, b)) for b in by)


_SAFE_KEYS: dict[str, str] = {}


def _safe(key: str) -> str:
    """A group key as it may be stored: redacted (memoised, bounded), so no secret reaches the state database."""
    safe = _SAFE_KEYS.get(key)
    if safe is None:
        if len(_SAFE_KEYS) >= 65_536:
            _SAFE_KEYS.clear()
        safe = _SAFE_KEYS[key] = redact(key)
    return safe


def _labels(key: str, by: list[str]) -> dict[str, str]:
    return dict(zip(by, key.split("|"), strict=False))


def _prune(buckets: dict[str, Any], oldest: float) -> None:
    for b in [b for b in buckets if float(b) < oldest]:
        del buckets[b]


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


class ErrorRateRule:
    """Error share over a window, silent below a minimum volume (1 error of 1 request is no page)."""

    def __init__(self, cfg: c.ErrorRateRule) -> None:
        self.cfg, self.size = cfg, _bucket_size(cfg.window)
        self.levels = frozenset(cfg.levels)
        self.from_tally = cfg.by == ["service"] and self.size.is_integer()

    def _fold_tally(self, batch: Batch) -> dict[tuple[str, str], list[int]]:
        svc, size, levels = self.cfg.service, self.size, self.levels
        acc: dict[tuple[str, str], list[int]] = {}
        for (s, level, sec), n in batch.tally.items():
            if svc is not None and s != svc:
                continue
            k = (str(s), str(int(sec // size) * size))
            cell = acc.get(k)
            if cell is None:
                cell = acc[k] = [0, 0]
            cell[0] += n
            if level in levels:
                cell[1] += n
        return acc

    def _scan(self, batch: Batch) -> dict[tuple[str, str], list[int]]:
        svc, size, levels, by = self.cfg.service, self.size, self.levels, self.cfg.by
        acc: dict[tuple[str, str], list[int]] = {}
        for rec in batch if svc is None else batch.having("service", [svc]):
            k = (_key(rec, by), str(int(rec[TS_KEY] // size) * size))
            cell = acc.get(k)
            if cell is None:
                cell = acc[k] = [0, 0]
            cell[0] += 1
            level = rec.get("level")
            if type(level) is str and level in levels:  # a list or object is no level
                cell[1] += 1
        return acc

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg, by, batch = self.cfg, self.cfg.by, Batch.of(records)
        acc = self._fold_tally(batch) if self.from_tally else self._scan(batch)
        groups = state.setdefault("groups", {})
        for (g, b), (n, e) in acc.items():
            cell = groups.setdefault(_safe(g), {}).setdefault(b, [0, 0])
            cell[0] += n
            cell[1] += e
        out = []
        for g, buckets in groups.items():
            _prune(buckets, now - cfg.window)
            total = sum(v[0] for v in buckets.values())
            errors = sum(v[1] for v in buckets.values())
            if total >= cfg.min_volume and errors / total > cfg.threshold:
                rate = errors / total
                out.append(
                    Signal(
                        _labels(g, by),
                        rate,
                        f"error rate {_pct(rate)} ({errors}/{total}) over "
                        f"{cfg.window:g}s is above {_pct(cfg.threshold)}",
                    )
                )
        state["groups"] = {g: b for g, b in groups.items() if b}
        return out


_LOG_STEP = math.log(1.05)


class PercentileRule:
    """Windowed percentile from log-scale histograms (±2.5% of the true value)."""

    def __init__(self, cfg: c.PercentileRule) -> None:
        self.cfg, self.size = cfg, _bucket_size(cfg.window)
        self.path = cfg.field.split(".")
        self.bins: dict[float, int] = {}  # value -> log-scale bin; values repeat a lot

    def _groups(self, batch: Batch) -> list[tuple[str | None, list[Record]]]:
        """(group key or None when it must be computed per record, candidate records)."""
        cfg = self.cfg
        if cfg.by == ["service"]:
            if cfg.service is not None:
                return [(str(cfg.service), batch.having("service", [cfg.service]))]
            return [(str(s), recs) for s, recs in batch.by_field("service").items()]
        if cfg.service is not None:
            return [(None, batch.having("service", [cfg.service]))]
        return [(None, batch.having("event", [cfg.event]) if cfg.event is not None else batch)]

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg, size, by, bins = self.cfg, self.size, self.cfg.by, self.bins
        acc: dict[tuple[str, int, int], int] = {}
        head, rest, event, log = self.path[0], self.path[1:], cfg.event, math.log
        if len(bins) > 65_536:
            bins.clear()
        for group, recs in self._groups(Batch.of(records)):
            for rec in recs:
                if event is not None and rec.get("event") != event:
                    continue
                v: Any = rec.get(head)
                for part in rest:
                    v = v.get(part) if isinstance(v, dict) else None
                kind = type(v)
                if kind is not float and kind is not int:  # bool and str are not measurements
                    continue
                b = bins.get(v)
                if b is None:
                    b = bins[v] = int(log(v) / _LOG_STEP) if v > 0 else -1000
                k = (_key(rec, by) if group is None else group, int(rec[TS_KEY] // size), b)
                acc[k] = acc.get(k, 0) + 1
        groups = state.setdefault("groups", {})
        for (g, t, b), n in acc.items():
            hist = groups.setdefault(_safe(g), {}).setdefault(str(t * size), {})
            hist[str(b)] = hist.get(str(b), 0) + n
        out = []
        for g, buckets in groups.items():
            _prune(buckets, now - cfg.window)
            value, count = _percentile(buckets.values(), cfg.percentile)
            if count >= cfg.min_count and value > cfg.threshold:
                out.append(
                    Signal(
                        _labels(g, by),
                        value,
                        f"p{cfg.percentile:g} {cfg.field} {value:.1f} over "
                        f"{cfg.window:g}s ({count} samples) is above {cfg.threshold:g}",
                    )
                )
        state["groups"] = {g: b for g, b in groups.items() if b}
        return out


def _percentile(hists: Any, pct: float) -> tuple[float, int]:
    """Return the percentile estimate (bin midpoint) and the sample count of merged histograms."""
    merged: dict[int, int] = {}
    for h in hists:
        for b, n in h.items():
            merged[int(b)] = merged.get(int(b), 0) + n
    count = sum(merged.values())
    if not count:
        return 0.0, 0
    rank, seen = math.ceil(pct / 100.0 * count), 0
    for b in sorted(merged):
        seen += merged[b]
        if seen >= rank:
            return (0.0 if b == -1000 else math.exp((b + 0.5) * _LOG_STEP)), count
    return 0.0, count


class MatchRule:
    """Records matching fields and regexes, at least `min_count` within the window."""

    def __init__(self, cfg: c.MatchRule) -> None:
        self.cfg, self.size = cfg, _bucket_size(cfg.window)
        self.where = [(k, frozenset(v) if isinstance(v, list) else frozenset([v])) for k, v in cfg.where.items()]
        self.regex = [(k, re.compile(p)) for k, p in cfg.regex.items()]
        self.narrow = next(((k, v) for k, v in self.where if "." not in k), None)  # served by the batch index

    def _hit(self, rec: Record) -> bool:
        for k, allowed in self.where:
            v = rec.get(k) if "." not in k else get_field(rec, k)
            try:
                if v not in allowed:
                    return False
            except TypeError:  # a list or object can equal no configured scalar
                return False
        for k, rx in self.regex:
            v = rec.get(k) if "." not in k else get_field(rec, k)
            if v is None or not rx.search(str(v)):
                return False
        return True

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg, size = self.cfg, self.size
        groups = state.setdefault("groups", {})
        samples = state.setdefault("sample", {})
        batch, newest = Batch.of(records), dict[str, tuple[float, Record]]()
        for rec in batch if self.narrow is None else batch.having(*self.narrow):
            if self._hit(rec):
                g, ts = _safe(_key(rec, cfg.by)), rec[TS_KEY]
                b = str(int(ts // size) * size)
                buckets = groups.setdefault(g, {})
                buckets[b] = buckets.get(b, 0) + 1
                if g not in newest or ts >= newest[g][0]:  # the sample is the newest matching record of the batch
                    newest[g] = (ts, rec)
        for g, (_, rec) in newest.items():
            samples[g] = redact(str(rec.get("message", ""))[:300])
        out = []
        for g, buckets in groups.items():
            _prune(buckets, now - cfg.window)
            n = sum(buckets.values())
            if n >= cfg.min_count:
                out.append(
                    Signal(
                        _labels(g, cfg.by),
                        n,
                        f"{n} matching record(s) in {cfg.window:g}s",
                        {"sample": samples.get(g, "")},
                    )
                )
        state["groups"] = {g: b for g, b in groups.items() if b}
        state["sample"] = {g: s for g, s in samples.items() if g in state["groups"]}
        return out


class AbsenceRule:
    """No record from a service for `seconds` (measured from monitor start if it never logged)."""

    def __init__(self, cfg: c.AbsenceRule) -> None:
        self.cfg = cfg
        self.services = frozenset(cfg.services)

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        last = state.setdefault("last_seen", {})
        started = state.setdefault("started", now)
        batch = Batch.of(records)
        for s in self.services:
            newest = batch.newest(s)
            if newest is not None and newest > last.get(s, 0.0):
                last[s] = newest
        out = []
        for s in self.cfg.services:
            quiet = now - last.get(s, started)
            if quiet > self.cfg.seconds:
                out.append(
                    Signal({"service": s}, quiet, f"no logs from {s} for {quiet:.0f}s (limit {self.cfg.seconds:g}s)")
                )
        return out


class NewFingerprintRule:
    """An error fingerprint not seen before fires, then resolves after `hold`."""

    def __init__(self, cfg: c.NewFingerprintRule) -> None:
        self.cfg = cfg

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        known: dict[str, float] = state.setdefault("known", {})
        fresh: dict[str, list[Any]] = state.setdefault("fresh", {})
        learning = now - state.setdefault("started", now) < self.cfg.learn_for
        for rec in records:
            err = rec.get("error")
            if not isinstance(err, dict):
                continue
            fp = err.get("fingerprint")
            if not fp or not isinstance(fp, str):
                continue
            if fp not in known and not learning:
                svc, etype = _safe(str(rec.get("service", ""))), redact(str(err.get("type", "")))
                fresh[fp] = [now, svc, etype, redact(str(rec.get("message", ""))[:300])]
            known[fp] = rec[TS_KEY]
        if len(known) > self.cfg.max_known:
            for fp, _ in sorted(known.items(), key=lambda kv: kv[1])[: len(known) - self.cfg.max_known]:
                del known[fp]
        out = []
        for fp, (seen, svc, etype, msg) in list(fresh.items()):
            if now - seen >= self.cfg.hold:
                del fresh[fp]
                continue
            out.append(
                Signal(
                    {"service": svc, "error_fingerprint": fp},
                    1.0,
                    f"new error {etype or 'fingerprint'} {fp} in {svc}",
                    {"sample": msg},
                )
            )
        return out


class BaselineRule:
    """Last hour's error rate against the same hour of day on previous days; says when history is short."""

    def __init__(self, cfg: c.BaselineRule) -> None:
        self.cfg = cfg
        self.levels = frozenset(cfg.levels)

    def evaluate(self, records: Sequence[Record], now: float, state: dict[str, Any]) -> list[Signal]:
        cfg = self.cfg
        hours = state.setdefault("hours", {})
        batch = Batch.of(records)
        if cfg.by == ["service"]:
            for (s, level, sec), n in batch.tally.items():
                if cfg.service is None or s == cfg.service:
                    cell = hours.setdefault(_safe(str(s)), {}).setdefault(str(sec // 3600), [0, 0])
                    cell[0] += n
                    cell[1] += n if level in self.levels else 0
        else:
            for rec in batch if cfg.service is None else batch.having("service", [cfg.service]):
                cell = hours.setdefault(_safe(_key(rec, cfg.by)), {}).setdefault(str(int(rec[TS_KEY] // 3600)), [0, 0])
                cell[0] += 1
                level = rec.get("level")
                cell[1] += type(level) is str and level in self.levels
        now_h = int(now // 3600)
        out, notes = [], []
        for g, by_hour in hours.items():
            _prune(by_hour, now_h - cfg.history_days * 24)
            past = [by_hour.get(str(now_h - 24 * d)) for d in range(1, cfg.history_days + 1)]
            rates = [e / n for n, e in (p for p in past if p) if n]
            if len(rates) < cfg.min_days:
                notes.append(f"{g}: insufficient history ({len(rates)} of {cfg.min_days} days for this hour)")
                continue
            n, e = by_hour.get(str(now_h), [0, 0])
            base = statistics.median(rates)
            limit = max(base * cfg.factor, 1.0 / max(n, 1))
            if e >= cfg.min_errors and n and e / n > limit:
                out.append(
                    Signal(
                        _labels(g, cfg.by),
                        e / n,
                        f"error rate {_pct(e / n)} this hour vs "
                        f"baseline {_pct(base)} for this hour of day (x{cfg.factor:g} limit)",
                    )
                )
            notes.append(f"{g}: baseline {_pct(base)} from {len(rates)} days")
        state["status"] = "; ".join(notes) if notes else "insufficient history (no records yet)"
        return out
