"""The whole system over real sockets: simulators, market-data and telegram-bot as processes.

One stack for the module, at DEBUG so every library speaks; each test plays one user story and
reads the services' log files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from crypto_observability.shared.testing import validate_record
from services.demo.processes import ProcessGroup
from services.demo.stack import DEMO_TOKEN, MEMBERS, STRANGERS, Stack, start_stack
from services.demo.summary import raw_ids_in

SALT = "e2e-salt-not-a-real-secret"
pytestmark = pytest.mark.slow


@dataclass
class System:
    stack: Stack
    log_dir: Path
    http: httpx.Client

    def records(self, service: str) -> list[dict[str, Any]]:
        path = self.log_dir / f"{service}.log"
        return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []

    def wait_for(self, service: str, found: Callable[[dict[str, Any]], bool], timeout: float = 15.0
                 ) -> list[dict[str, Any]]:
        """Poll a service's log until some record matches (writes are asynchronous)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = [r for r in self.records(service) if found(r)]
            if matches:
                return matches
            time.sleep(0.1)
        raise AssertionError(f"no matching record in {service}.log after {timeout} s")

    def say(self, user_id: int, text: str, replies: int = 1) -> list[dict[str, Any]]:
        """Send a message as a simulated user and wait for the bot's replies to them."""
        user = {"id": user_id, "first_name": f"User{user_id}", "username": f"user{user_id}"}
        before = len(self.messages(user_id))
        self.http.post(f"{self.stack.telegram_url}/_admin/send", json={"user": user, "text": text}).raise_for_status()
        answer = self.http.get(f"{self.stack.telegram_url}/_admin/wait_for_reply",
                               params={"chat_id": user_id, "count": before + replies, "timeout": 15}, timeout=20)
        answer.raise_for_status()
        return self.messages(user_id)[before:]

    def messages(self, user_id: int) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.stack.telegram_url}/_admin/messages",
                                  params={"chat_id": user_id}).json()["result"])


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    (log_dir / "processes").mkdir()
    import os

    env = {**os.environ, "LOG_DIR": str(log_dir), "LOG_CONSOLE": "false", "LOG_USER_SALT": SALT,
           "LOG_LEVEL": "DEBUG", "ENVIRONMENT": "test", "PYTHONUNBUFFERED": "1", "PTB_TIMEDELTA": "1"}
    with ProcessGroup(log_dir / "processes", env) as group, httpx.Client(timeout=10) as http:
        yield System(start_stack(group), log_dir, http)


def test_a_price_request_is_answered_and_one_request_id_ties_every_line(system: System) -> None:
    """/price from a member is answered to them; bot, market-data and exchange lines share one request id."""
    (reply,) = system.say(MEMBERS[0], "/price BTC")
    assert "BTC" in reply["text"] and any(ch.isdigit() for ch in reply["text"])
    requests = system.wait_for("telegram-bot", lambda r: r.get("event") == "market_data_request")
    request_id = requests[-1]["request_id"]
    served = system.wait_for("market-data", lambda r: r.get("event") == "http_request"
                             and r.get("request_id") == request_id)
    assert served[0]["context"]["path"] == "/price/{symbol}" and served[0]["context"]["status_code"] == 200
    calls = [r for r in system.records("market-data")
             if r.get("event") == "exchange_api_call" and r.get("request_id") == request_id]
    assert {c["context"]["exchange"] for c in calls} == {"binanceusdm", "bybit", "okx"}
    system.wait_for("telegram-bot", lambda r: r.get("event") == "bot_command" and r.get("request_id") == request_id)
    bot_lines = [r for r in system.records("telegram-bot") if r.get("request_id") == request_id]
    assert {r.get("event") for r in bot_lines} >= {"market_data_request", "market_data_response", "bot_command"}
    assert len({r.get("user") for r in bot_lines if r.get("user")}) == 1


def test_an_unauthorised_user_is_refused_and_a_security_event_logged(system: System) -> None:
    """A stranger gets a polite refusal, and the log has a security event for it."""
    (reply,) = system.say(STRANGERS[0], "/price ETH")
    assert "not" in reply["text"].lower() or "authori" in reply["text"].lower()
    events = system.wait_for("telegram-bot", lambda r: r.get("event") == "security_event")
    assert events[-1]["context"]["kind"] == "unauthorized_command"


def test_a_429_storm_gives_rate_limit_events_and_a_partial_answer(system: System) -> None:
    """bybit rate-limits: the user still gets open interest, told it is partial; the log says why."""
    faults = f"{system.stack.exchange_url}/_admin/faults"
    system.http.post(faults, json={"exchange": "bybit", "kind": "rate_limit", "params": {"retry_after": 2}})
    try:
        (reply,) = system.say(MEMBERS[1], "/oi SOL")
    finally:
        system.http.delete(faults)
    assert "bybit" in reply["text"].lower()
    hits = system.wait_for("market-data", lambda r: r.get("event") == "rate_limit_hit")
    assert hits[-1]["context"]["exchange"] == "bybit"
    partial = system.wait_for("market-data", lambda r: r.get("event") == "oi_aggregation" and r["context"]["partial"])
    assert partial[-1]["context"]["exchanges_failed"] == ["bybit"]


def test_no_secret_or_raw_user_id_anywhere_and_every_line_is_a_valid_record(system: System) -> None:
    """After the stories above, the files hold no token, salt or raw id, and every line validates."""
    system.say(MEMBERS[2], "/volume XRP")
    for service in ("telegram-bot", "market-data"):
        raw = (system.log_dir / f"{service}.log").read_text()
        for secret in (DEMO_TOKEN, DEMO_TOKEN.split(":")[1], SALT):
            assert secret not in raw, f"{service}.log leaks a secret"
        records = system.records(service)
        assert records
        for record in records:
            validate_record(record)
            assert raw_ids_in(record, {*MEMBERS[:3], STRANGERS[0]}) == set(), f"{service}.log shows a user id"
