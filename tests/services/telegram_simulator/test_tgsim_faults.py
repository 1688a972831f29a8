"""Armed faults and token errors, as python-telegram-bot 22 sees them."""

from __future__ import annotations

import datetime as dtm
from typing import Any

import pytest
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from services.telegram_simulator import SimulatedUser, TelegramSimulator
from services.telegram_simulator.faults import FaultPlan


async def test_wrong_token_is_invalid_token_at_initialize(sim: TelegramSimulator, make_app: Any) -> None:
    """An Application with another token fails at initialize (getMe) with InvalidToken."""
    # own request objects: a failed initialize leaves PTB's HTTP clients open for us to close
    requests = [HTTPXRequest(), HTTPXRequest()]
    app = make_app(token="987654321:SOMEONE-ELSES-token", request=requests[0], get_updates_request=requests[1])
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await app.initialize()
    finally:
        for request in requests:
            await request.shutdown()
    assert sim.calls_of("getMe")[-1]["status"] == 401


async def test_429_is_retry_after(sim: TelegramSimulator, make_app: Any, alice: SimulatedUser) -> None:
    """inject_429 makes the next sendMessage raise RetryAfter carrying retry_after; the next works."""
    sim.add_user(alice)
    sim.inject_429(retry_after=7, count=1, methods=["sendMessage"])
    async with make_app() as app:
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(alice.id, "first")
        await app.bot.send_message(alice.id, "second")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert [m["text"] for m in sim.messages_for(alice.id)] == ["second"]


async def test_5xx_is_network_error(sim: TelegramSimulator, make_app: Any, alice: SimulatedUser) -> None:
    """inject_5xx makes the next calls raise NetworkError with the status phrase, count times."""
    sim.add_user(alice)
    async with make_app() as app:
        sim.inject_5xx(status=502, count=2)
        for _ in range(2):
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await app.bot.send_message(alice.id, "x")
        assert (await app.bot.send_message(alice.id, "ok")).text == "ok"


def test_faults_apply_in_order_to_matching_methods_only() -> None:
    """A method-scoped fault skips other methods; faults are consumed count by count."""
    plan = FaultPlan()
    plan.inject_429(retry_after=3, count=1, methods="sendMessage")
    plan.inject_5xx(status=503, count=1)
    assert plan.armed == 2
    first = plan.take("getUpdates")
    assert first is not None and first.code == 503
    assert plan.take("getMe") is None
    second = plan.take("SENDMESSAGE")
    assert second is not None and second.body()["parameters"] == {"retry_after": 3}
    assert plan.armed == 0


@pytest.mark.parametrize(
    ("arm", "message"),
    [
        (lambda p: p.inject_429(retry_after=0), "retry_after must be a positive int"),
        (lambda p: p.inject_429(count=0), "count must be a positive int"),
        (lambda p: p.inject_5xx(status=418), "allowed: 500, 502, 503, 504"),
    ],
)
def test_bad_fault_arguments_name_what_is_allowed(arm: Any, message: str) -> None:
    """Arming a fault with a bad value fails with a message naming the value and what is allowed."""
    with pytest.raises(ValueError, match=message):
        arm(FaultPlan())
