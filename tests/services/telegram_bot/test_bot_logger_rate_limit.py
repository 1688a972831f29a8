"""The per-user sliding window: exact limits on an injected clock, one report per burst, masked users."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared.testing import capture_logs, validate_record
from services.exchange_simulator import FakeClock
from services.telegram_bot.bot_logger import BotLogger, RateLimiter

USER = 731902468


def test_window_allows_n_then_refuses_until_it_slides():
    """N commands pass in the window, the next is refused, and one passes again once the oldest ages out."""
    clock = FakeClock(1000.0)
    limiter = RateLimiter(max_commands=3, window_s=10, clock=clock)
    allowed = []
    for _ in range(3):
        allowed.append(limiter.check(USER))
        clock.advance(1)
    assert [*allowed, limiter.check(USER)] == [True, True, True, False]
    clock.advance(6.99)  # t=1009.99: the first command (t=1000) is still inside the window
    assert limiter.check(USER) is False
    clock.advance(0.02)  # t=1010.01: it has aged out, one slot is free again
    assert (limiter.check(USER), limiter.check(USER)) == (True, False)


def test_users_are_limited_independently():
    """One user's flood does not limit another."""
    limiter = RateLimiter(max_commands=1, window_s=60, clock=FakeClock())
    assert (limiter.check(1), limiter.check(1), limiter.check(2)) == (True, False, True)


def test_one_report_per_burst_with_masked_user():
    """A burst emits rate_limit_hit and a low security_event once; a new burst reports again."""
    clock = FakeClock(0.0)
    with capture_logs("DEBUG") as logs:
        limiter = RateLimiter(max_commands=2, window_s=5, clock=clock, logger=BotLogger())
        results = [limiter.check(USER) for _ in range(6)]
        clock.advance(6)
        results += [limiter.check(USER) for _ in range(4)]
    assert results == [True, True, False, False, False, False, True, True, False, False]
    hits = logs.find(event="rate_limit_hit")
    assert [h["context"] for h in hits] == [{"scope": "user", "limit": 2, "window_s": 5}] * 2
    security = logs.find(event="security_event")
    assert [s["context"]["kind"] for s in security] == ["suspicious_rate"] * 2
    assert security[0]["context"]["severity"] == "low"
    assert hits[0]["user"].startswith("u_") and hits[0]["user"] == security[0]["user"]
    assert str(USER).encode() not in b"\n".join(logs.lines)
    for record in logs.records:
        validate_record(record)


@pytest.mark.parametrize(("max_commands", "window_s"), [(0, 1), (1, 0), (3, -1)])
def test_bad_limits_are_refused(max_commands, window_s):
    """A limit below one command or a non-positive window is a configuration error."""
    with pytest.raises(ValueError, match="max_commands"):
        RateLimiter(max_commands, window_s)


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.floats(min_value=0, max_value=4, allow_nan=False), min_size=1, max_size=40),
       limit=st.integers(min_value=1, max_value=5))
def test_never_more_than_the_limit_in_any_window(gaps, limit):
    """Whatever the timing, no window of window_s seconds holds more than max_commands allowed commands."""
    clock = FakeClock(0.0)
    limiter = RateLimiter(max_commands=limit, window_s=5, clock=clock)
    allowed = []
    for gap in gaps:
        clock.advance(gap)
        if limiter.check(USER):
            allowed.append(clock.now)
    for i, start in enumerate(allowed):
        assert sum(1 for t in allowed[i:] if t < start + 5) <= limit
