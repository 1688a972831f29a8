"""The simulated perpetual contracts and venues: static facts the price model and the venues share."""

from __future__ import annotations

from dataclasses import dataclass

VENUES: tuple[str, ...] = ("binanceusdm", "bybit", "okx")


@dataclass(frozen=True)
class Coin:
    """One USDT-margined perpetual: its base asset and the numbers that make it look real."""

    base: str
    price: float  # reference price in USDT at the model's epoch
    annual_vol: float  # annualised volatility of the random walk
    tick: str  # price tick, as the exchanges print it
    qty_step: str  # amount step in base units
    daily_volume: float  # 24h volume on the largest venue, base units
    open_interest: float  # open interest on the largest venue, base units
    okx_ct_val: str  # base units per OKX contract
    max_leverage: int

    @property
    def pair(self) -> str:
        """Return the concatenated id used by Binance and Bybit, e.g. BTCUSDT."""
        return f"{self.base}USDT"

    @property
    def okx_id(self) -> str:
        """Return the OKX instrument id, e.g. BTC-USDT-SWAP."""
        return f"{self.base}-USDT-SWAP"

    @property
    def unified(self) -> str:
        """Return the ccxt unified symbol, e.g. BTC/USDT:USDT."""
        return f"{self.base}/USDT:USDT"


COINS: tuple[Coin, ...] = (
    Coin("BTC", 95_000.0, 0.50, "0.10", "0.001", 160_000.0, 85_000.0, "0.01", 125),
    Coin("ETH", 3_400.0, 0.65, "0.01", "0.001", 2_400_000.0, 2_100_000.0, "0.1", 100),
    Coin("SOL", 180.0, 0.85, "0.0100", "1", 9_000_000.0, 8_000_000.0, "1", 75),
    Coin("XRP", 2.2, 0.80, "0.0001", "0.1", 900_000_000.0, 450_000_000.0, "100", 75),
    Coin("DOGE", 0.32, 0.90, "0.00001", "1", 6_000_000_000.0, 3_500_000_000.0, "1000", 75),
)

BY_BASE: dict[str, Coin] = {c.base: c for c in COINS}
BY_PAIR: dict[str, Coin] = {c.pair: c for c in COINS}
BY_OKX_ID: dict[str, Coin] = {c.okx_id: c for c in COINS}


@dataclass(frozen=True)
class VenueProfile:
    """How one venue differs from the fair price: a steady basis, its own jitter, its share of activity."""

    basis: float  # fractional premium over the fair price
    jitter: float  # amplitude of the venue's own short-lived deviation (fraction of price)
    share: float  # volume and open interest relative to the largest venue
    ratio_bias: float  # multiplies the long/short account ratio


PROFILES: dict[str, VenueProfile] = {
    "binanceusdm": VenueProfile(basis=0.0, jitter=0.00012, share=1.0, ratio_bias=1.0),
    "bybit": VenueProfile(basis=0.00015, jitter=0.00015, share=0.55, ratio_bias=1.12),
    "okx": VenueProfile(basis=-0.0001, jitter=0.00014, share=0.4, ratio_bias=0.9),
}

# Hosts each venue's REST and WebSocket urls name; requests arrive as /<host>/<path>.
HOSTS: dict[str, str] = {
    "fapi.binance.com": "binanceusdm",
    "fstream.binance.com": "binanceusdm",
    "api.binance.com": "binanceusdm",
    "api.bybit.com": "bybit",
    "stream.bybit.com": "bybit",
    "www.okx.com": "okx",
    "ws.okx.com": "okx",
}


def coin_for(base: str) -> Coin:
    """Return the coin for a base asset, naming the ones that exist when it is unknown."""
    try:
        return BY_BASE[base.upper()]
    except KeyError:
        raise KeyError(f"unknown coin {base!r}; simulated: {', '.join(BY_BASE)}") from None


def decimals(step: str) -> int:
    """Return how many decimals a step string such as '0.0100' carries."""
    return len(step.split(".", 1)[1]) if "." in step else 0


def fmt(value: float, step: str) -> str:
    """Render a value rounded to a step's decimals, as exchanges print numbers."""
    return f"{value:.{decimals(step)}f}"
