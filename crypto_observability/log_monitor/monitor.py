"""The monitor loop: follow -> parse -> rules -> alert lifecycle -> one SQLite commit -> deliver the outbox."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from crypto_observability.log_monitor import config as c
from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.clock import system_clock
from crypto_observability.log_monitor.engine import Engine
from crypto_observability.log_monitor.follower import Follower
from crypto_observability.log_monitor.lock import StateLock
from crypto_observability.log_monitor.notifiers import Notifier, build_notifiers
from crypto_observability.log_monitor.records import RecordParser
from crypto_observability.log_monitor.rules_logs import (
    AbsenceRule,
    BaselineRule,
    ErrorRateRule,
    MatchRule,
    NewFingerprintRule,
    PercentileRule,
    Rule,
)
from crypto_observability.log_monitor.rules_system import HttpCheckRule, HttpGet, PredictRule, SystemRule, http_status
from crypto_observability.log_monitor.sampler import Sampler
from crypto_observability.log_monitor.sender import Sender
from crypto_observability.log_monitor.store import Store


def build_rules(
    cfg: c.MonitorConfig, *, sampler: Sampler | None = None, http_get: HttpGet = http_status
) -> dict[str, Rule]:
    """Instantiate every configured rule by its `type`."""
    out: dict[str, Rule] = {}
    for rc in cfg.rules:
        if isinstance(rc, c.ErrorRateRule):
            out[rc.name] = ErrorRateRule(rc)
        elif isinstance(rc, c.PercentileRule):
            out[rc.name] = PercentileRule(rc)
        elif isinstance(rc, c.MatchRule):
            out[rc.name] = MatchRule(rc)
        elif isinstance(rc, c.AbsenceRule):
            out[rc.name] = AbsenceRule(rc)
        elif isinstance(rc, c.NewFingerprintRule):
            out[rc.name] = NewFingerprintRule(rc)
        elif isinstance(rc, c.HttpCheckRule):
            out[rc.name] = HttpCheckRule(rc, http_get)
        elif isinstance(rc, c.SystemRule):
            out[rc.name] = SystemRule(rc, sampler)
        elif isinstance(rc, c.PredictRule):
            out[rc.name] = PredictRule(rc, sampler)
        else:
            out[rc.name] = BaselineRule(rc)
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a batch is parsed and evaluated.

    A batch is tens of thousands of fresh, acyclic JSON dicts; letting the collector walk them again
    and again as they are allocated cost about 40% of parsing. They are freed by reference counting.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


SHUTDOWN_GRACE = 3.0  # seconds `run` waits for in-flight deliveries after a stop; pending rows stay in the outbox
MAX_SERVICES = 100  # distinct `service` values counted for /metrics; the rest as "other"


@dataclass
class RunSummary:
    """What a `run` did, for the CLI to print."""

    steps: int
    lines: int
    delivered: int


class Monitor:
    """Everything the monitor owns, rebuilt from the state database on start."""

    def __init__(
        self,
        cfg: c.MonitorConfig,
        *,
        clock: Callable[[], float] = system_clock,
        store: Store | None = None,
        notifiers: dict[str, Notifier] | None = None,
        rules: dict[str, Rule] | None = None,
        sampler: Sampler | None = None,
        http_get: HttpGet = http_status,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.cfg, self.clock = cfg, clock
        self.metrics_port: int | None = None  # set while `run` serves /metrics
        db_path = store.path if store is not None else cfg.state_db
        self.lock = StateLock(db_path) if db_path != ":memory:" else None
        if self.lock is not None:
            self.lock.acquire()
        try:
            self.store = store or Store(cfg.state_db)
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            raise
        self.follower = Follower(
            cfg.sources,
            start_at=cfg.start_at,
            max_line_bytes=cfg.max_line_bytes,
            rotate_wait=cfg.rotate_wait,
            clock=clock,
        )
        snap = self.store.get("follower")
        if snap:
            self.follower.restore(snap)
        self.parser = RecordParser(cfg.max_skew)
        self.selfmon: dict[str, Any] = self.store.get("self", {"lines": 0, "parse_errors": 0, "newest_ts": None})
        self.parser.parse_errors = self.selfmon["parse_errors"]
        self.parser.future_ts = self.selfmon.get("future_ts", 0)
        self.parser.newest_ts = self.selfmon.get("newest_ts") or 0.0
        self.parser.pending = self.store.get("docker_partial", {})
        self.rules = rules if rules is not None else build_rules(cfg, sampler=sampler, http_get=http_get)
        self.states: dict[str, dict[str, Any]] = {n: self.store.get(f"rule:{n}", {}) for n in self.rules}
        self.engine = Engine(cfg, self.store.alerts())
        self.ack_cursor: int = self.store.get("ack_cursor", 0)
        env = os.environ if environ is None else environ
        self.sender = Sender(self.store, notifiers if notifiers is not None else build_notifiers(cfg, env), cfg, clock)
        if not snap:  # first start: what exists now is the baseline, made durable before anything else
            self.follower.poll(0)
            self.commit()

    def _read_batch(self) -> list[bytes]:
        """Up to `batch_lines` lines holding at most `batch_bytes` bytes (one poll: the follower keeps both)."""
        return self.follower.poll(self.cfg.batch_lines, self.cfg.batch_bytes)

    def process(self) -> int:
        """Read and evaluate one batch in memory; nothing is durable until `commit()`."""
        now = self.clock()
        tails = self.follower.stats.dropped_tails
        lines = self._read_batch()
        self.parser.parse_errors += self.follower.stats.dropped_tails - tails  # an unfinished line is no record
        with _gc_paused():
            records = self.parser.parse(lines, now)
            counted = self.selfmon.setdefault("records_by_service", {})
            # counts only: a loop variable holding a group of records would keep them alive past `del records`,
            # and the collector, enabled again, would walk them all (a third of a batch's parsing time)
            for service, n in [(s, len(recs)) for s, recs in records.by_field("service").items()]:
                key = redact(str(service))
                key = key if key in counted or len(counted) < MAX_SERVICES else "other"
                counted[key] = counted.get(key, 0) + n
            evaluations = self.selfmon.setdefault("evaluations", {})
            results = {}
            for name, rule in self.rules.items():
                signals = rule.evaluate(records, now, self.states[name])
                evaluations[name] = evaluations.get(name, 0) + 1
                if name in self.engine.rules:
                    results[name] = signals
            del records
        acks = self.store.acks_after(self.ack_cursor)
        if acks:
            by_id = {i: fp for fp, i in self.store.alert_ids().items()}
            for ack in acks:
                self.engine.apply_ack(by_id.get(ack["alert_id"], ""), ack)
            self.ack_cursor = acks[-1]["id"]
        self.engine.observe(results, now)
        self.engine.notify(now, self.store.silences(now))
        newest = self.parser.newest_ts or None
        self.selfmon.update(
            lines=self.selfmon["lines"] + len(lines),
            parse_errors=self.parser.parse_errors,
            future_ts=self.parser.future_ts,
            newest_ts=newest,
            lag=(now - newest) if newest else None,
            heartbeat=now,
            follower=self.follower.snapshot()["stats"],
            files=len(self.follower.streams),
        )
        return len(lines)

    def commit(self) -> None:
        """Make offsets, rule windows, alerts, history and new outbox rows durable in one transaction."""
        alerts, history, outbox, evicted = self.engine.drain()
        kv = {
            "follower": self.follower.snapshot(),
            "self": self.selfmon,
            "ack_cursor": self.ack_cursor,
            "docker_partial": self.parser.pending,
        }
        kv.update({f"rule:{n}": s for n, s in self.states.items()})
        self.store.commit(kv, alerts, history, outbox, evicted)

    def step(self) -> int:
        """Process one batch and commit it; return the number of lines read."""
        n = self.process()
        self.commit()
        return n

    def deliver(self) -> int:
        """Deliver due notifications; return how many succeeded."""
        return self.sender.deliver_due()

    def wait_probes(self, timeout: float = 10.0) -> None:
        """Wait for in-flight HTTP checks (used by --once so a single pass sees their results)."""
        for rule in self.rules.values():
            if isinstance(rule, HttpCheckRule):
                rule.wait(timeout)

    def run(
        self,
        *,
        once: bool = False,
        duration: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> RunSummary:
        """Loop until `duration` passes, `stop` is set, or after one pass with `once`."""
        if once:
            lines = self.step()
            self.wait_probes()
            lines += self.step()
            return RunSummary(2, lines, self.deliver())
        stop = stop or threading.Event()
        wakes = {ch: threading.Event() for ch in self.cfg.channels}
        counts = dict.fromkeys(self.cfg.channels, 0)
        self._give_up_at = float("inf")
        senders = [
            threading.Thread(
                target=self._sender_loop, args=(ch, stop, wakes[ch], counts), name=f"log-monitor-send-{ch}", daemon=True
            )
            for ch in self.cfg.channels
        ]
        for t in senders:
            t.start()
        metrics = self._serve_metrics()
        start, steps, lines = self.clock(), 0, 0
        try:
            while not stop.is_set():
                n = self.step()
                steps, lines = steps + 1, lines + n
                for wake in wakes.values():
                    wake.set()
                if duration is not None and self.clock() - start >= duration:
                    break
                if n < self.cfg.batch_lines:
                    sleep(self.cfg.poll_interval)
        finally:
            deadline = self._give_up_at = time.monotonic() + SHUTDOWN_GRACE
            stop.set()
            for wake in wakes.values():
                wake.set()
            for t in senders:  # a channel stuck in a slow request is left behind; its row stays pending
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            if metrics is not None:
                metrics.close()
        return RunSummary(steps, lines, sum(counts.values()))

    def _serve_metrics(self) -> Any:
        if self.cfg.metrics is None or self.store.path == ":memory:":
            return None
        from crypto_observability.log_monitor.metrics import MetricsServer

        server = MetricsServer(self.store.path, self.cfg.metrics.host, self.cfg.metrics.port)
        self.metrics_port = server.port
        return server

    def _sender_loop(self, channel: str, stop: threading.Event, wake: threading.Event, counts: dict[str, int]) -> None:
        """Deliver one channel's rows, so a slow channel never delays another."""
        store = Store(self.store.path)
        sender = Sender(store, self.sender.notifiers, self.cfg, self.clock)
        try:
            while True:  # after a stop: one last pass, no new attempt once the grace is spent
                counts[channel] += sender.deliver_due(channel, lambda: time.monotonic() > self._give_up_at)
                if stop.is_set():
                    return
                wake.wait(1.0)
                wake.clear()
        finally:
            store.close()

    def close(self) -> None:
        """Release files, notifier connections, the database and the state lock."""
        self.follower.close()
        for notifier in self.sender.notifiers.values():
            close = getattr(notifier, "close", None)
            if close is not None:
                close()
        self.store.close()
        if self.lock is not None:
            self.lock.release()
