"""Symbol harmonisation: every exchange's and user's spelling maps to BASE-QUOTE, or fails loudly and logged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared.testing import capture_logs, validate_record
from services.market_data.market_logger import MarketLogger
from services.market_data.symbols import UnknownSymbol, harmonise, to_ccxt_perpetual

SPELLINGS = [
    ("BTC/USDT", "BTC-USDT"), ("BTCUSDT", "BTC-USDT"), ("btcusdt", "BTC-USDT"), ("BTC-USDT-SWAP", "BTC-USDT"),
    ("BTC/USDT:USDT", "BTC-USDT"), ("XBTUSD", "BTC-USD"), ("XBT/USD", "BTC-USD"), ("ETHUSDT", "ETH-USDT"),
    ("btc_usdt", "BTC-USDT"), (" eth/usdc ", "ETH-USDC"), ("XBTUSDTM", "BTC-USDT"), ("ETHBTC", "ETH-BTC"),
    ("1000PEPEUSDT", "1000PEPE-USDT"), ("sol-usdt-swap", "SOL-USDT"), ("DOGE/USDT:USDT", "DOGE-USDT"),
]


@pytest.mark.parametrize(("raw", "canonical"), SPELLINGS)
def test_known_spellings_map_to_the_canonical_symbol(raw, canonical):
    """Each exchange's spelling of a market maps to one canonical BASE-QUOTE."""
    assert canonical == harmonise(raw)


@pytest.mark.parametrize("raw", ["", "   ", "BTC", "FOO", "A/B/C", "USDTUSDT", "BTC/!!", "ÄÖÜ/USDT"])
def test_unmappable_spellings_raise_unknown_symbol(raw):
    """Text that cannot be read as BASE and QUOTE raises UnknownSymbol carrying the raw text."""
    with pytest.raises(UnknownSymbol) as caught:
        harmonise(raw)
    assert caught.value.raw == raw


def test_default_quote_completes_a_bare_base():
    """A bot user's bare "btc" maps when the caller names a default quote."""
    assert harmonise("btc", default_quote="usdt") == "BTC-USDT"
    assert to_ccxt_perpetual("BTC-USDT") == "BTC/USDT:USDT"


def _random_case(text: str, flips: list[bool]) -> str:
    return "".join(c.lower() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(["BTC", "XBT", "ETH", "SOL", "XRP", "DOGE", "1000PEPE", "LINK"]),
    quote=st.sampled_from(["USDT", "USDC", "USD", "BTC", "EUR"]),
    separator=st.sampled_from(["/", "-", "_", "", " "]),
    suffix=st.sampled_from(["", ":{quote}", "-SWAP", "-PERP"]),
    flips=st.lists(st.booleans(), max_size=24),
    padding=st.sampled_from(["", " ", "\t"]),
)
def test_case_and_separator_variations_agree(base, quote, separator, suffix, flips, padding):
    """Any case, separator, settle or contract suffix gives the same canonical symbol."""
    canonical_base = "BTC" if base == "XBT" else base
    if canonical_base == ("BTC" if quote == "BTC" else quote):
        return
    raw = padding + _random_case(f"{base}{separator}{quote}{suffix.format(quote=quote)}", flips) + padding
    assert f"{canonical_base}-{quote}" == harmonise(raw)


def test_market_logger_logs_harmonised_and_unmapped_symbols():
    """harmonise_symbol logs symbol_harmonised at DEBUG; an unmapped one logs symbol_unmapped and raises."""
    with capture_logs("DEBUG") as logs:
        mlog = MarketLogger()
        assert mlog.harmonise_symbol("XBTUSD", exchange="bitmex") == "BTC-USD"
        assert mlog.harmonise_symbol("ethusdt") == "ETH-USDT"
        with pytest.raises(UnknownSymbol, match="NOTACOIN"):
            mlog.harmonise_symbol("NOTACOIN", exchange="okx")
    first, second = logs.find(event="symbol_harmonised")
    assert first["context"] == {"raw": "XBTUSD", "canonical": "BTC-USD", "exchange": "bitmex"}
    assert second["context"] == {"raw": "ethusdt", "canonical": "ETH-USDT"}
    [unmapped] = logs.find(event="symbol_unmapped")
    assert (unmapped["level"], unmapped["context"]["raw"], unmapped["context"]["exchange"]) == (
        "WARNING", "NOTACOIN", "okx")
    for r in logs.records:
        validate_record(r)
