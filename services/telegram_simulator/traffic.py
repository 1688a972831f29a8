"""Realistic user traffic: a seeded plan of who types what when, and a driver that plays it."""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .users import SimulatedUser

SYMBOLS = ("BTC", "ETH", "SOL", "XRP")
MARKET_COMMANDS = ("/price", "/oi", "/volume", "/analysis", "/longshort")
BAD_SYMBOLS = ("NOTACOIN", "DOGEFAKE", "BTC-PERP-X", "1234", "$$$")
CHATTER = ("hello", "what's bitcoin doing?", "thanks!", "👍", "is ETH going up today?", "help", "gm")
FLOOD_SIZE, FLOOD_SPAN_S = 15, 3.0
# Relative weights of traffic events; a "flood" event expands into FLOOD_SIZE messages.
DEFAULT_MIX: dict[str, float] = {
    "command": 50, "start_help": 8, "mention": 5, "bad_symbol": 8, "missing_argument": 4,
    "chatter": 8, "unauthorised": 14, "flood": 3,
}
_NAMES = ("Alice", "Bob", "Chen", "Dara", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Juno",
          "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq")


class TextSink(Protocol):
    """Anything users can type into: TelegramSimulator, or an HTTP client of /_admin/send."""

    def send_text(self, user: SimulatedUser, text: str) -> Any: ...


@dataclass(frozen=True)
class PlannedMessage:
    """One message of the plan: when (seconds from start), who, what, and why."""

    at_s: float
    user: SimulatedUser
    text: str
    kind: str


@dataclass
class TrafficReport:
    """What a driver run sent, counted by kind and by user."""

    sent: int = 0
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)
    by_user: collections.Counter[int] = field(default_factory=collections.Counter)

    def to_dict(self) -> dict[str, Any]:
        """Render as JSON-ready data."""
        return {"sent": self.sent, "by_kind": dict(self.by_kind), "by_user": dict(self.by_user)}


def make_users(count: int, strangers: int | None = None) -> list[SimulatedUser]:
    """Deterministic users: members (ids 100001...) then strangers (ids 900001...), ~1 in 6 strangers."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    strangers = max(1, count // 6) if strangers is None and count > 1 else (strangers or 0)
    if not 0 <= strangers <= count:
        raise ValueError(f"strangers must be between 0 and count ({count}), got {strangers!r}")
    users = []
    for i in range(count):
        stranger = i >= count - strangers
        base = 900_001 + i - (count - strangers) if stranger else 100_001 + i
        name = _NAMES[i % len(_NAMES)]
        users.append(SimulatedUser(
            id=base, first_name=name, username=f"{name.lower()}_{base}",
            role="stranger" if stranger else "member",
        ))
    return users


def plan_traffic(
    users: Sequence[SimulatedUser],
    duration_s: float,
    rate_per_s: float,
    seed: int,
    mix: dict[str, float] | None = None,
    bot_username: str = "CryptoAssistantSimBot",
) -> list[PlannedMessage]:
    """Plan Poisson-timed traffic events over duration_s; the same arguments give the same plan."""
    if not users:
        raise ValueError("users must hold at least one SimulatedUser")
    if duration_s <= 0 or rate_per_s <= 0:
        raise ValueError(f"duration_s and rate_per_s must be > 0, got {duration_s!r} and {rate_per_s!r}")
    mix = dict(DEFAULT_MIX if mix is None else mix)
    unknown = sorted(set(mix) - set(DEFAULT_MIX))
    if unknown:
        raise ValueError(f"unknown traffic kind(s) {unknown}; allowed: {sorted(DEFAULT_MIX)}")
    rng = random.Random(seed)
    members = [u for u in users if u.role == "member"] or list(users)
    strangers = [u for u in users if u.role == "stranger"]
    kinds, weights = list(mix), list(mix.values())
    plan: list[PlannedMessage] = []
    t = rng.expovariate(rate_per_s)
    while t < duration_s:
        kind = rng.choices(kinds, weights)[0]
        if kind == "unauthorised" and not strangers:
            kind = "command"
        plan.extend(_event(rng, kind, t, members, strangers, bot_username))
        t += rng.expovariate(rate_per_s)
    return sorted((m for m in plan if m.at_s < duration_s), key=lambda m: m.at_s)


def _event(
    rng: random.Random, kind: str, t: float, members: list[SimulatedUser],
    strangers: list[SimulatedUser], bot: str,
) -> list[PlannedMessage]:
    user = rng.choice(strangers if kind == "unauthorised" else members)
    if kind == "flood":
        step = FLOOD_SPAN_S / FLOOD_SIZE
        return [PlannedMessage(t + i * step, user, _market_command(rng), kind) for i in range(FLOOD_SIZE)]
    makers: dict[str, Callable[[], str]] = {
        "command": lambda: _market_command(rng),
        "unauthorised": lambda: _market_command(rng),
        "start_help": lambda: rng.choice(("/start", "/help")),
        "mention": lambda: _market_command(rng).replace(" ", f"@{bot} ", 1),
        "bad_symbol": lambda: f"{rng.choice(MARKET_COMMANDS)} {rng.choice(BAD_SYMBOLS)}",
        "missing_argument": lambda: rng.choice(MARKET_COMMANDS),
        "chatter": lambda: rng.choice(CHATTER),
    }
    return [PlannedMessage(t, user, makers[kind](), kind)]


def _market_command(rng: random.Random) -> str:
    symbol = rng.choice(SYMBOLS)
    spelling = rng.choices(
        (symbol, f"{symbol}/USDT", f"{symbol.lower()}usdt", symbol.lower()), (70, 12, 10, 8)
    )[0]
    return f"{rng.choice(MARKET_COMMANDS)} {spelling}"


async def drive_traffic(
    sim: TextSink,
    users: Sequence[SimulatedUser],
    duration_s: float,
    rate_per_s: float,
    rng_seed: int,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    mix: dict[str, float] | None = None,
    bot_username: str = "CryptoAssistantSimBot",
) -> TrafficReport:
    """Play a traffic plan into sim in real time (or the injected clock's time); return what was sent."""
    plan = plan_traffic(users, duration_s, rate_per_s, rng_seed, mix, bot_username)
    now = clock or asyncio.get_running_loop().time
    start = now()
    report = TrafficReport()
    for message in plan:
        delay = start + message.at_s - now()
        if delay > 0:
            await sleep(delay)
        result = sim.send_text(message.user, message.text)
        if asyncio.iscoroutine(result):
            await result
        report.sent += 1
        report.by_kind[message.kind] += 1
        report.by_user[message.user.id] += 1
    return report
