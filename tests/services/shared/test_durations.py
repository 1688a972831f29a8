"""The one duration grammar, and every place that reads a duration speaking it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from crypto_observability.log_analyzer.errors_base import OptionError
from crypto_observability.log_analyzer.filters import parse_time
from crypto_observability.log_monitor.config import parse_duration as monitor_duration
from crypto_observability.shared.durations import parse_duration
from crypto_observability.shared.settings import ConfigError, LogSettings
from services.telegram_simulator.cli import positive_duration

CASES = [("500ms", 0.5), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("7d", 604800), ("1w", 604800),
         ("2d12h", 216000), ("1.5h", 5400), ("90", 90), ("1H", 3600), (" 1h 30m ", 5400), ("1m500ms", 60.5)]
BAD = ["", "h", "1x", "30m1h", "1h1h", "-5s", "1 hour", "1e3", "5mm"]


@pytest.mark.parametrize(("text", "seconds"), CASES)
def test_grammar(text: str, seconds: float) -> None:
    """Each documented form gives its seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", BAD)
def test_bad_durations_name_the_value_and_the_grammar(text: str) -> None:
    """A bad duration is a ValueError naming the value and the forms allowed."""
    with pytest.raises(ValueError, match=r"is not a duration.*1h30m"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "seconds"), CASES)
def test_every_reader_speaks_the_same_grammar(text: str, seconds: float) -> None:
    """LOG_MAX_AGE, log-analyzer --since, the monitor's durations (config, silence --for) and the Telegram
    simulator's --traffic agree."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time(text, now) == now - timedelta(seconds=parse_duration(text))
    assert monitor_duration(text) == pytest.approx(seconds)
    assert LogSettings.from_env({"LOG_MAX_AGE": text}).max_age_s == pytest.approx(seconds)
    assert positive_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1h30x", "30m1h"])
def test_every_reader_rejects_the_same_way(text: str) -> None:
    """The readers reject what the grammar rejects, each with its own error type and the grammar."""
    with pytest.raises(OptionError, match="1h30m"):
        parse_time(text, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="1h30m"):
        monitor_duration(text)
    with pytest.raises(ConfigError, match="LOG_MAX_AGE"):
        LogSettings.from_env({"LOG_MAX_AGE": text})
    with pytest.raises(argparse.ArgumentTypeError, match="1h30m"):
        positive_duration(text)


TOO_LONG = ["9999999w", "99999999999999999999w", "1" + "0" * 400, "36526d", "5219w", "3155760001"]


@pytest.mark.parametrize("text", TOO_LONG)
def test_a_duration_over_100_years_is_refused(text: str) -> None:
    """More than 100 years (or more than a float holds) is a ValueError naming the value and the bound."""
    with pytest.raises(ValueError, match=r"^'\d+[wd]?' is too long \(at most 100 years\)$"):
        parse_duration(text)


def test_100_years_is_the_longest_duration() -> None:
    """100 years of 365.25 days is accepted, to the second."""
    assert parse_duration("36525d") == parse_duration("3155760000") == 100 * 365.25 * 86400


@pytest.mark.parametrize("text", ["9999999w", "99999999999999999999w"])
def test_every_reader_refuses_a_too_long_duration(text: str) -> None:
    """log-analyzer --since/--until, the monitor config, LOG_MAX_AGE and the simulator refuse it with their own
    error, naming the bound (no OverflowError, no date past year 9999)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(OptionError, match=rf"^--until '{text}' is too long \(at most 100 years\)$"):
        parse_time(text, now, "--until")
    with pytest.raises(ValueError, match="at most 100 years"):
        monitor_duration(text)
    with pytest.raises(ConfigError, match=rf"^LOG_MAX_AGE='{text}' is not valid: expected a duration of at most 100"):
        LogSettings.from_env({"LOG_MAX_AGE": text})
    with pytest.raises(argparse.ArgumentTypeError, match="at most 100 years"):
        positive_duration(text)
