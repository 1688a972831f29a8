"""The shipped config/monitor.yml: each outage the services can have raises its alert, and resolves when it ends.

The records come from the services' own emitters (ExchangeLogger with ccxt's exceptions, MarketLogger,
BotLogger, the HTTP middleware's event), stamped by a fake clock that the monitor shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import ccxt
import orjson
import pytest

import crypto_observability.shared.structured_logger as structured_logger
from crypto_observability.log_monitor.clock import FakeClock
from crypto_observability.log_monitor.config import load_config
from crypto_observability.log_monitor.monitor import Monitor
from crypto_observability.log_monitor.notifiers import RecordingNotifier
from crypto_observability.log_monitor.testing import WebhookReceiver
from crypto_observability.shared.structured_logger import create_structured_logger
from crypto_observability.shared.testing import capture_logs
from services.market_data.market_logger import MarketLogger
from services.telegram_bot.bot_logger import BotLogger

ROOT = Path(__file__).resolve().parents[3]
Emit = Callable[[MarketLogger, BotLogger], None]


class Stack:
    """A log directory the shipped config follows, the services' emitters on the monitor's clock, a health endpoint."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dir, self.clock = tmp_path, FakeClock(1_767_225_600.0)  # 2026-01-01T00:00:00Z
        monkeypatch.setattr(structured_logger, "_now", self.clock)
        self.health = WebhookReceiver()
        env = {
            "LOG_DIR": str(tmp_path),
            "MONITOR_STATE_DB": str(tmp_path / "state.db"),
            "MARKET_DATA_URL": self.health.url.rsplit("/", 1)[0],
        }
        for service in ("market-data", "telegram-bot"):
            (tmp_path / f"{service}.log").touch()
        self.cfg = load_config(ROOT / "config" / "monitor.yml", env)
        self.monitor = Monitor(self.cfg, clock=self.clock, notifiers={"console": RecordingNotifier()})
        self._capture = ExitStack()
        self.logs = self._capture.enter_context(capture_logs("INFO"))
        self.market = MarketLogger(create_structured_logger("market-data", "market_logger"))
        self.bot = BotLogger(create_structured_logger("telegram-bot", "bot_logger"))
        self.copied = 0

    def emit(self, fn: Emit) -> None:
        """Run `fn` against the services' loggers and append what they wrote to each service's log file."""
        fn(self.market, self.bot)
        lines = self.logs.lines
        for line in lines[self.copied :]:
            with open(self.dir / f"{orjson.loads(line)['service']}.log", "ab") as f:
                f.write(line + b"\n")
        self.copied = len(lines)

    def minute(self, fn: Emit | None = None, *, heartbeat: bool = True, probe: bool = False) -> None:
        """One minute of traffic: both services log normally (unless told not to), plus `fn`; then a monitor step.

        With `probe`, the step waits for the health check it started, so the next step sees its answer.
        """

        def traffic(market: MarketLogger, bot: BotLogger) -> None:
            if heartbeat:
                for _ in range(5):
                    market.slog.http_request("GET", "/price/{symbol}", 200, 20.0)
                    bot.slog.info("command served")
            if fn is not None:
                fn(market, bot)

        self.emit(traffic)
        self.monitor.step()
        if probe:
            self.monitor.wait_probes()
        self.clock.advance(60)

    def state(self, alertname: str, **labels: str) -> str:
        """The state of the one alert of `alertname` whose labels include `labels` ("absent" if none)."""
        found = [
            a
            for a in self.monitor.engine.alerts.values()
            if a["labels"]["alertname"] == alertname and all(a["labels"].get(k) == v for k, v in labels.items())
        ]
        assert len(found) <= 1, found
        return found[0]["state"] if found else "absent"

    def close(self) -> None:
        self._capture.close()
        self.monitor.close()
        self.health.close()


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    s = Stack(tmp_path, monkeypatch)
    yield s
    s.close()


def _timeouts(market: MarketLogger, _: BotLogger) -> None:
    for _n in range(12):
        market.exchange_logger.record_call(
            "okx", "fetch_open_interest", "BTC-USDT", 10_000.0, ccxt.RequestTimeout("okx GET timed out")
        )


def _partial(market: MarketLogger, _: BotLogger) -> None:
    for _n in range(12):
        market.oi_aggregation("BTC-USDT", {"binance": 1e9, "bybit": 5e8}, failed=["okx"], response_time_ms=300.0)


def _throttled(market: MarketLogger, _: BotLogger) -> None:
    for _n in range(6):
        market.exchange_logger.record_call(
            "bybit", "fetch_ticker", "BTC-USDT", 50.0, ccxt.RateLimitExceeded("bybit 429"), retry_after=1.0
        )


def _slow(market: MarketLogger, _: BotLogger) -> None:
    for _n in range(30):
        market.slog.http_request("GET", "/price/{symbol}", 200, 2500.0)


def _errors(market: MarketLogger, _: BotLogger) -> None:
    for _n in range(10):
        market.slog.http_request("GET", "/price/{symbol}", 500, 30.0)


def _unauthorized(_: MarketLogger, bot: BotLogger) -> None:
    for user in range(6):
        bot.user_authorization("admin", False, user_id=1000 + user)


def _forged_webhooks(_: MarketLogger, bot: BotLogger) -> None:
    bot.webhook_rejected()


# outage -> (what the services log each minute while it lasts, minutes it lasts, the alert and its labels)
OUTAGES: dict[str, tuple[Emit, int, str, dict[str, str]]] = {
    "exchange timing out": (_timeouts, 1, "exchange_failing", {"context.exchange": "okx"}),
    "partial answers": (_partial, 1, "exchange_partial_answers", {"service": "market-data"}),
    "exchange rate limit": (_throttled, 1, "exchange_rate_limited", {"context.exchange": "bybit"}),
    "latency": (_slow, 4, "market_data_latency_p95", {"service": "market-data"}),
    "error spike": (_errors, 3, "error_rate_high", {"service": "market-data"}),
    "unauthorized commands": (_unauthorized, 1, "security_events_repeated", {"context.kind": "unauthorized_command"}),
    "forged webhooks": (_forged_webhooks, 1, "security_event", {"service": "telegram-bot"}),
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_each_outage_raises_its_shipped_alert_and_resolves(stack: Stack, outage: str) -> None:
    """Replayed through config/monitor.yml, each outage fires its alert while it lasts and resolves after it ends."""
    emit, minutes, alertname, labels = OUTAGES[outage]
    stack.minute()
    assert stack.state(alertname, **labels) == "absent"
    for _ in range(minutes):
        stack.minute(emit)
    assert stack.state(alertname, **labels) == "firing"
    for _ in range(11):  # the longest shipped window is 10 minutes
        stack.minute()
    assert stack.state(alertname, **labels) == "resolved"


def test_a_silent_service_raises_service_silent_and_resolves(stack: Stack) -> None:
    """No line from telegram-bot for more than 5 minutes fires service_silent for it; its next line resolves it."""
    stack.minute()

    def market_only(market: MarketLogger, _: BotLogger) -> None:
        for _n in range(5):
            market.slog.http_request("GET", "/price/{symbol}", 200, 20.0)

    for _ in range(7):
        stack.minute(market_only, heartbeat=False)
    assert stack.state("service_silent", service="telegram-bot") == "firing"
    assert stack.state("service_silent", service="market-data") == "absent"
    stack.minute()
    assert stack.state("service_silent", service="telegram-bot") == "resolved"


def test_market_data_health_check_is_shipped_on(stack: Stack) -> None:
    """The shipped http_check probes market-data's /health: two failed probes fire it, a good one resolves it."""
    stack.minute(probe=True)
    stack.health.get_status = 503
    for _ in range(3):
        stack.minute(probe=True)
    assert stack.state("market_data_health", service="market-data") == "firing"
    stack.health.get_status = 200
    stack.minute(probe=True)
    stack.minute(probe=True)
    assert stack.state("market_data_health", service="market-data") == "resolved"


def test_shipped_rules_cover_the_seed_outages() -> None:
    """Every outage class the seed names has a shipped rule (and the host metrics are on)."""
    cfg = load_config(ROOT / "config" / "monitor.yml", {"LOG_DIR": "logs"})
    types: dict[str, Any] = {r.name: r.type for r in cfg.rules}
    assert {
        "service_silent": "absence",
        "market_data_health": "http_check",
        "error_rate_high": "error_rate",
        "exchange_failing": "match",
        "exchange_partial_answers": "match",
        "exchange_rate_limited": "match",
        "market_data_latency_p95": "percentile",
        "exchange_latency_p95": "percentile",
        "security_event": "match",
        "security_events_repeated": "match",
        "disk_io_high": "system",
        "network_high": "system",
    }.items() <= types.items()
