"""The traffic driver: a realistic, seeded mix of commands, strangers, floods, bad symbols and chatter."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.telegram_simulator import (
    SimulatedUser,
    TelegramSimulator,
    drive_traffic,
    make_users,
    plan_traffic,
)
from services.telegram_simulator.traffic import BAD_SYMBOLS, MARKET_COMMANDS


class FakeClock:
    """A clock that only moves when the driver sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSink:
    """Collects what the driver types, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    def send_text(self, user: SimulatedUser, text: str) -> None:
        self.sent.append((user.id, text))


def test_make_users_is_deterministic_with_members_and_strangers() -> None:
    """make_users(12) gives 10 members (ids 100001...) and 2 strangers (ids 900001...)."""
    users = make_users(12)
    assert users == make_users(12)
    assert [u.id for u in users if u.role == "member"] == list(range(100001, 100011))
    assert [u.id for u in users if u.role == "stranger"] == [900001, 900002]


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    """A plan depends only on its arguments: one seed replays exactly, another differs."""
    users = make_users(12)
    assert plan_traffic(users, 60, 2, seed=7) == plan_traffic(users, 60, 2, seed=7)
    assert plan_traffic(users, 60, 2, seed=7) != plan_traffic(users, 60, 2, seed=8)


def test_a_minute_of_traffic_has_the_whole_mix() -> None:
    """A minute at 2/s holds every kind, every market command and symbol, and at least one flood."""
    plan = plan_traffic(make_users(12), 60, 2, seed=3)
    kinds = collections.Counter(m.kind for m in plan)
    assert set(kinds) == {
        "command", "start_help", "mention", "bad_symbol", "missing_argument", "chatter", "unauthorised", "flood",
    }
    texts = " ".join(m.text for m in plan)
    assert all(cmd + " " in texts or cmd + "@" in texts for cmd in MARKET_COMMANDS)
    assert all(sym in texts.upper() for sym in ("BTC", "ETH", "SOL", "XRP"))
    assert "/USDT" in texts and "usdt" in texts
    assert 80 <= len(plan) <= 250


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), rate=st.floats(0.5, 5), duration=st.floats(1, 30))
def test_plan_invariants(seed: int, rate: float, duration: float) -> None:
    """Any plan is time-ordered within its duration, and strangers send exactly the 'unauthorised' traffic."""
    users = make_users(6)
    plan = plan_traffic(users, duration, rate, seed)
    assert [m.at_s for m in plan] == sorted(m.at_s for m in plan)
    assert all(0 <= m.at_s < duration for m in plan)
    assert all((m.user.role == "stranger") == (m.kind == "unauthorised") for m in plan)
    assert all(m.text.split()[1] in BAD_SYMBOLS for m in plan if m.kind == "bad_symbol")


def test_flood_is_fifteen_commands_in_three_seconds() -> None:
    """A flood event is one user sending 15 commands within 3 seconds."""
    plan = plan_traffic(make_users(4), 10, 1, seed=1, mix={"flood": 1})
    first = [m for m in plan if m.user == plan[0].user][:15]
    assert len(first) == 15
    assert first[-1].at_s - first[0].at_s < 3.0
    assert all(m.text.startswith("/") for m in first)


def test_without_strangers_unauthorised_becomes_member_commands() -> None:
    """With only members, the plan still runs: unauthorised events fall back to member commands."""
    members = [u for u in make_users(5) if u.role == "member"]
    plan = plan_traffic(members, 20, 2, seed=2, mix={"unauthorised": 1})
    assert plan and {m.kind for m in plan} == {"command"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": []}, "at least one SimulatedUser"),
        ({"duration_s": 0}, "must be > 0"),
        ({"mix": {"spam": 1}}, "unknown traffic kind"),
    ],
)
def test_bad_plan_arguments(kwargs: dict[str, Any], message: str) -> None:
    """plan_traffic names the bad argument and what is allowed."""
    args: dict[str, Any] = {"users": make_users(3), "duration_s": 5, "rate_per_s": 1, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        plan_traffic(**args)


async def test_driver_plays_the_plan_on_the_injected_clock() -> None:
    """drive_traffic sends the plan in order, sleeping on the injected clock, and reports counts."""
    users, clock, sink = make_users(6), FakeClock(), RecordingSink()
    report = await drive_traffic(sink, users, 20, 2, 5, clock=clock, sleep=clock.sleep)
    plan = plan_traffic(users, 20, 2, 5)
    assert sink.sent == [(m.user.id, m.text) for m in plan]
    assert report.sent == len(plan) == sum(report.by_kind.values()) == sum(report.by_user.values())
    assert clock.now - 1000.0 == pytest.approx(plan[-1].at_s)


async def test_driver_feeds_the_simulator(sim: TelegramSimulator) -> None:
    """Driven into a simulator, every message becomes an update with increasing ids and command entities."""
    clock = FakeClock()
    report = await drive_traffic(sim, make_users(6), 10, 3, 11, clock=clock, sleep=clock.sleep)
    updates = sim.queue.pending
    assert len(updates) == report.sent
    assert [u["update_id"] for u in updates] == list(range(1, report.sent + 1))
    for update in updates:
        message = update["message"]
        if message["text"].startswith("/"):
            entity = message["entities"][0]
            assert entity["offset"] == 0
            assert message["text"][: entity["length"]] == message["text"].split()[0]
