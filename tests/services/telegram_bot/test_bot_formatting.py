"""The replies people read: numbers with separators, one line per exchange, a note for missing exchanges."""

from __future__ import annotations

import pytest

from services.telegram_bot.formatting import (
    format_indicators,
    format_long_short,
    format_open_interest,
    format_volume,
    money,
    partial_note,
    price,
)


@pytest.mark.parametrize(("value", "expected"), [
    (43250.5, "$43,250.50"), (1_234_567.891, "$1,234,567.89"), (3.14159, "$3.1416"), (0.00001234, "$0.00001234"),
])
def test_prices_have_separators_and_sensible_decimals(value: float, expected: str) -> None:
    """Big prices get thousands separators and cents; small ones keep their significant decimals."""
    assert price(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (12_345_678_901, "$12.35B"), (456_700_000, "$456.70M"), (9_876, "$9,876"), (2.5e12, "$2.50T"),
])
def test_large_amounts_are_compact(value: float, expected: str) -> None:
    """Open interest and volume read as $12.35B rather than eleven digits."""
    assert money(value) == expected


def test_partial_note_names_each_missing_exchange_and_why() -> None:
    """Each exchange that failed is named with the reason in plain words."""
    note = partial_note({"okx": "timeout", "bybit": "rate_limit", "kraken": "weird_thing"})
    assert note == ("Note: bybit did not answer (rate limited); kraken did not answer (weird thing); "
                    "okx did not answer (timed out).")
    assert partial_note({}) == "" and partial_note(None) == ""


def test_open_interest_lists_exchanges_by_size_with_their_share() -> None:
    """/oi shows the total and each exchange, largest first, with its share of the total."""
    text = format_open_interest({"symbol": "BTC-USDT", "total_oi_usd": 12_000_000_000.0,
                                 "per_exchange_usd": {"okx": 3e9, "binance": 9e9},
                                 "exchanges_failed": {"bybit": "rate_limit"}, "partial": True})
    assert text.splitlines() == ["📊 BTC-USDT open interest", "Total: $12.00B ($12,000,000,000)",
                                 "• binance: $9.00B (75.0%)", "• okx: $3.00B (25.0%)",
                                 "Note: bybit did not answer (rate limited)."]


def test_volume_without_failures_has_no_note() -> None:
    """A complete answer carries no note."""
    text = format_volume({"symbol": "ETH-USDT", "total_volume_usd": 5e8, "per_exchange_usd": {"okx": 5e8},
                          "exchanges_failed": {}, "partial": False})
    assert text.splitlines() == ["📈 ETH-USDT 24h volume", "Total: $500.00M ($500,000,000)", "• okx: $500.00M (100.0%)"]


def test_analysis_reads_the_indicators() -> None:
    """/analysis says what RSI and MACD mean, not only their numbers."""
    text = format_indicators({
        "symbol": "BTC-USDT", "exchange": "binance", "timeframe": "1h", "rsi_14": 74.26,
        "macd": {"macd": 120.5, "signal": 100.25, "histogram": 20.25}, "ema_20": 43000.0, "ema_50": 42000.0,
        "bollinger_20": {"middle": 43000.0, "upper": 44000.0, "lower": 42000.0}, "candles": 100,
        "last_close": 43500.0, "exchanges_failed": {}, "partial": False})
    assert text.splitlines() == [
        "🔎 BTC-USDT analysis", "Last close: $43,500.00 (binance, 1h)", "RSI(14): 74.3 (overbought)",
        "MACD: 120.50 signal 100.25 (bullish)", "EMA20: $43,000.00  EMA50: $42,000.00",
        "Bollinger(20): $42,000.00 - $44,000.00"]


def test_long_short_shows_the_split() -> None:
    """/longshort turns each ratio into a long/short percentage split."""
    text = format_long_short({"symbol": "BTC-USDT", "ratios": {"binance": 1.5, "okx": 1.0}, "average_ratio": 1.25,
                              "exchanges_failed": {"bybit": "network"}, "partial": True})
    assert text.splitlines() == ["⚖️ BTC-USDT long/short ratio", "Average: 1.25 (56% long / 44% short)",
                                 "• binance: 1.50 (60% long / 40% short)", "• okx: 1.00 (50% long / 50% short)",
                                 "Note: bybit did not answer (network error)."]
