"""One canonical spelling for a market, whatever the exchange or the user typed: "BTC-USDT".

BTC/USDT, BTCUSDT, btcusdt, BTC-USDT-SWAP, BTC/USDT:USDT, BTC_USDT, XBTUSD, XBT/USD all name
the same instrument family; the analyzer and the cache key on the canonical form.
"""

from __future__ import annotations

import re

# Longest first, so BTCUSDT splits as BTC + USDT, not BTCUSD + T.
QUOTES: tuple[str, ...] = tuple(sorted(
    ("USDT", "USDC", "USD", "BUSD", "FDUSD", "TUSD", "DAI", "EUR", "GBP", "TRY", "BTC", "ETH", "BNB"),
    key=len, reverse=True,
))
ALIASES: dict[str, str] = {"XBT": "BTC"}
# Bases that settle an ambiguous split: XBTUSD is XBT + USD, not XB + TUSD.
KNOWN_BASES = frozenset({
    "BTC", "XBT", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX", "DOT", "LINK", "LTC", "TRX", "TON",
    "MATIC", "POL", "SHIB", "BCH", "NEAR", "APT", "ARB", "OP", "SUI", "PEPE", "1000PEPE", "ATOM", "FIL",
})
_CONTRACT_SUFFIXES = ("-SWAP", "-PERP", "_PERP", "PERP", "-PERPETUAL")
_SEPARATORS = re.compile(r"[/\-_ ]+")
_ASSET = re.compile(r"^[A-Z0-9]{1,20}$")


class UnknownSymbol(ValueError):
    """A symbol that cannot be read as BASE and QUOTE; carries the raw text it was given."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"cannot map symbol {raw!r} to BASE-QUOTE: {reason}")
        self.raw = raw
        self.reason = reason


def _asset(name: str) -> str:
    return ALIASES.get(name, name)


def _split_concatenated(text: str) -> tuple[str, str] | None:
    """BTCUSDT -> (BTC, USDT); XBTUSDTM (KuCoin futures) -> (BTC, USDT); None when no quote fits."""
    if text.endswith("M") and any(text[:-1].endswith(q) for q in ("USDT", "USD")) and len(text) > 5:
        text = text[:-1]
    splits = [(text[: -len(q)], q) for q in QUOTES if text.endswith(q) and len(text) > len(q)]
    known = [split for split in splits if split[0] in KNOWN_BASES]
    chosen = known or splits
    return chosen[0] if chosen else None


def harmonise(raw: str, default_quote: str | None = None) -> str:
    """Return the canonical BASE-QUOTE for any exchange or user spelling; raise UnknownSymbol otherwise."""
    if not isinstance(raw, str):
        raise UnknownSymbol(repr(raw), "not a string")
    text = raw.strip().upper()
    if not text:
        raise UnknownSymbol(raw, "empty")
    text = text.split(":", 1)[0]  # ccxt's settle currency: BTC/USDT:USDT
    for suffix in _CONTRACT_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) == 2:
        base, quote = parts
    elif len(parts) == 1:
        split = _split_concatenated(parts[0])
        if split is None:
            if default_quote is None or not _ASSET.match(parts[0]):
                raise UnknownSymbol(raw, f"no known quote currency ({', '.join(QUOTES)}) at its end")
            split = parts[0], default_quote.upper()
        base, quote = split
    else:
        raise UnknownSymbol(raw, "expected two parts, BASE and QUOTE")
    if not (_ASSET.match(base) and _ASSET.match(quote)):
        raise UnknownSymbol(raw, "assets are 1-20 letters or digits")
    base, quote = _asset(base), _asset(quote)
    if base == quote:
        raise UnknownSymbol(raw, "base and quote are the same asset")
    return f"{base}-{quote}"


def to_ccxt_perpetual(canonical: str) -> str:
    """BTC-USDT -> BTC/USDT:USDT, ccxt's unified linear perpetual."""
    base, _, quote = canonical.partition("-")
    return f"{base}/{quote}:{quote}"
