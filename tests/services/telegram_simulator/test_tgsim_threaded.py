"""ThreadedTelegramSimulator: the simulator for synchronous code, on its own loop thread."""

from __future__ import annotations

import threading

import httpx
import pytest

from services.telegram_simulator import SimulatedUser, ThreadedTelegramSimulator


def test_sync_round_trip() -> None:
    """Sync code queues a command, answers it over HTTP as a bot would, and waits for the reply."""
    user = SimulatedUser(id=77, first_name="Sync")
    with ThreadedTelegramSimulator() as sim, httpx.Client(base_url=f"{sim.base_url}{sim.token}/") as http:
        sim.send_command(user, "/start")
        updates = http.post("getUpdates", data={"timeout": "1"}).json()["result"]
        assert updates[0]["message"]["text"] == "/start"
        sim.inject_429(retry_after=3, count=1)
        assert http.post("sendMessage", data={"chat_id": "77", "text": "hi"}).status_code == 429
        assert http.post("sendMessage", data={"chat_id": "77", "text": "welcome"}).status_code == 200
        assert [m["text"] for m in sim.wait_for_reply(77, count=1, timeout=2)] == ["welcome"]
        assert sim.calls_of("sendMessage")[0]["status"] == 429
        with pytest.raises(TimeoutError, match="user 77 received 1 message"):
            sim.wait_for_reply(77, count=2, timeout=0.05)


def test_methods_before_start_say_so() -> None:
    """Using the threaded simulator before start() fails with a clear message."""
    with pytest.raises(RuntimeError, match="not started"):
        ThreadedTelegramSimulator().messages_for(1)


def test_bad_arguments_fail_start_without_leaving_a_thread() -> None:
    """A bad token fails start() with the simulator's message, and the loop thread is gone."""
    sim = ThreadedTelegramSimulator(token="bad")
    with pytest.raises(ValueError, match="must look like"):
        sim.start()
    assert "telegram-simulator" not in {t.name for t in threading.enumerate()}
