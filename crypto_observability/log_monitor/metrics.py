"""Prometheus /metrics for a running monitor, read from the state database at each scrape.

The collector has its own SQLite connection, so a scrape never waits on the monitor's loop and shows
exactly what was last committed: records read, parse errors, lag, rule evaluations, alerts by state,
notifications by channel and outcome, outbox depth.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from crypto_observability.log_monitor.store import Store

ALERT_STATES = ("inactive", "pending", "firing", "resolved")


class StateCollector(Collector):
    """Turn the committed state into metric families."""

    def __init__(self, store_path: str) -> None:
        self.store = Store(store_path)
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Any]:
        with self._lock:
            selfmon = self.store.get("self", {}) or {}
            alerts = self.store.alerts()
            outbox = self.store.db.execute("SELECT channel, status, count(*) FROM outbox GROUP BY 1, 2").fetchall()
        records = CounterMetricFamily("log_monitor_records", "Records parsed, by service", labels=["service"])
        for service, n in sorted((selfmon.get("records_by_service") or {}).items()):
            records.add_metric([service], n)
        yield records
        yield CounterMetricFamily("log_monitor_lines", "Lines read from the sources", value=selfmon.get("lines", 0))
        yield CounterMetricFamily(
            "log_monitor_parse_errors", "Lines that were not records", value=selfmon.get("parse_errors", 0)
        )
        yield CounterMetricFamily(
            "log_monitor_future_timestamps",
            "Records stamped beyond max_skew ahead of the monitor's clock (counted at its time)",
            value=selfmon.get("future_ts", 0),
        )
        lag = selfmon.get("lag")
        yield GaugeMetricFamily(
            "log_monitor_lag_seconds", "Monitor time minus the newest record's time", value=lag if lag else 0.0
        )
        yield GaugeMetricFamily(
            "log_monitor_heartbeat_timestamp_seconds",
            "When the loop last committed",
            value=selfmon.get("heartbeat") or 0,
        )
        evals = CounterMetricFamily("log_monitor_rule_evaluations", "Rule evaluations", labels=["rule"])
        for rule, n in sorted((selfmon.get("evaluations") or {}).items()):
            evals.add_metric([rule], n)
        yield evals
        by_state = dict.fromkeys(ALERT_STATES, 0)
        for a in alerts:
            by_state[a["state"]] = by_state.get(a["state"], 0) + 1
        states = GaugeMetricFamily("log_monitor_alerts", "Alerts held, by state", labels=["state"])
        for state, n in by_state.items():
            states.add_metric([state], n)
        yield states
        sent = CounterMetricFamily(
            "log_monitor_notifications", "Outbox rows by channel and outcome", labels=["channel", "outcome"]
        )
        depth = 0
        for channel, status, n in outbox:
            sent.add_metric([channel, status], n)
            depth += n if status == "pending" else 0
        yield sent
        yield GaugeMetricFamily("log_monitor_outbox_depth", "Notifications waiting to be delivered", value=depth)

    def close(self) -> None:
        """Close the collector's connection."""
        self.store.close()


class MetricsServer:
    """Serve /metrics on host:port (port 0 picks a free one; `port` tells which)."""

    def __init__(self, store_path: str, host: str, port: int) -> None:
        self.collector = StateCollector(store_path)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self.collector)
        self._server, self._thread = start_http_server(port, host, registry)
        self.port = int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self.collector.close()
