"""A labelled corpus of crypto-assistant error messages, for scoring the template miner on our own logs.

Each message comes with its true template (variables written ``<*>``): the exception texts ccxt
raises for the three venues we read (Binance USDⓈ-M, Bybit, OKX), the errors python-telegram-bot
raises and the bot logs around them, and market-data's own warnings. The variables are what
changes in production: order and update ids, symbols, prices, durations, URLs, user hashes and
venues. Same ``seed`` and ``n``, same corpus.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Callable

# one venue name per ccxt class, as ccxt prefixes its messages with it
VENUES = ("binanceusdm", "bybit", "okx")
BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LINK", "AVAX", "DOT", "LTC", "BNB", "TRX")
HOSTS = {"binanceusdm": "https://fapi.binance.com", "bybit": "https://api.bybit.com",
         "okx": "https://www.okx.com"}
ENDPOINTS = {"binanceusdm": ("/fapi/v1/ticker/24hr?symbol={raw}", "/fapi/v1/depth?symbol={raw}&limit=100",
                             "/fapi/v1/openInterest?symbol={raw}"),
             "bybit": ("/v5/market/tickers?category=linear&symbol={raw}",
                       "/v5/market/orderbook?category=linear&symbol={raw}&limit=50"),
             "okx": ("/api/v5/market/ticker?instId={base}-USDT-SWAP",
                     "/api/v5/public/open-interest?instId={base}-USDT-SWAP")}

Slot = Callable[[random.Random, str], str]


def _symbol(rng: random.Random, venue: str) -> str:
    """A unified ccxt symbol of a linear perpetual."""
    return f"{rng.choice(BASES)}/USDT:USDT"


def _url(rng: random.Random, venue: str) -> str:
    """A request URL of the venue's public API."""
    base = rng.choice(BASES)
    path = rng.choice(ENDPOINTS[venue]).format(raw=f"{base}USDT", base=base)
    return HOSTS[venue] + path


def _user(rng: random.Random, venue: str) -> str:
    """A user as our logs write it: ``u_`` + 16 hex of a keyed hash."""
    return "u_" + hashlib.sha256(str(rng.getrandbits(64)).encode()).hexdigest()[:16]


def _millis(rng: random.Random, venue: str) -> str:
    return str(rng.randint(150, 30_000))


def _price(rng: random.Random, venue: str) -> str:
    return f"{rng.uniform(0.05, 98_000):.2f}"


def _percent(rng: random.Random, venue: str) -> str:
    return f"{rng.uniform(0.2, 9.5):.2f}"


def _seconds(rng: random.Random, venue: str) -> str:
    return str(rng.randint(1, 120))


def _order_id(rng: random.Random, venue: str) -> str:
    return str(rng.randint(10**9, 10**12))


def _client_id(rng: random.Random, venue: str) -> str:
    return "x-" + "".join(rng.choices(string.ascii_letters + string.digits, k=20))


def _update_id(rng: random.Random, venue: str) -> str:
    return str(rng.randint(10**8, 10**9))


def _request_id(rng: random.Random, venue: str) -> str:
    return "req-" + "".join(rng.choices("0123456789abcdef", k=12))


def _stamp(rng: random.Random, venue: str) -> str:
    return str(1_733_300_000_000 + rng.randint(0, 86_400_000))


def _venue(rng: random.Random, venue: str) -> str:
    return venue


def _other_venue(rng: random.Random, venue: str) -> str:
    return rng.choice([other for other in VENUES if other != venue])


def _bad_symbol(rng: random.Random, venue: str) -> str:
    """What a user types that maps to no market."""
    return rng.choice(("PEPE2", "XYZ", "BTCUSD", "SHIB-EUR", "FOO/BAR", "ETHH", "DOG", "LUNA3"))


SLOTS: dict[str, Slot] = {
    "venue": _venue, "other": _other_venue, "symbol": _symbol, "url": _url, "user": _user, "ms": _millis,
    "price": _price, "pct": _percent, "secs": _seconds, "order": _order_id, "client": _client_id,
    "update": _update_id, "req": _request_id, "ts": _stamp, "bad": _bad_symbol,
}

# (venues it occurs for, format with {slot} fields); the true template replaces every field with <*>
CCXT = (
    (("binanceusdm",), '{venue} GET {url} 429 Too Many Requests {{"code":-1003,"msg":"Too many requests; '
                       'current limit is 2400 requests per minute."}}'),
    (("binanceusdm",), '{venue} {{"code":-1121,"msg":"Invalid symbol."}}'),
    (("binanceusdm",), '{venue} {{"code":-2013,"msg":"Order does not exist."}}'),
    (("binanceusdm",), '{venue} {{"code":-2019,"msg":"Margin is insufficient."}}'),
    (("bybit",), '{venue} {{"retCode":10006,"retMsg":"Too many visits!","result":{{}},"retExtInfo":{{}},'
                 '"time":{ts}}}'),
    (("bybit",), '{venue} {{"retCode":10001,"retMsg":"params error: symbol invalid","result":{{}},'
                 '"retExtInfo":{{}},"time":{ts}}}'),
    (("bybit",), '{venue} {{"retCode":110001,"retMsg":"order not exists or too late to cancel","result":{{}},'
                 '"retExtInfo":{{}},"time":{ts}}}'),
    (("okx",), '{venue} {{"code":"50011","data":[],"msg":"Too Many Requests"}}'),
    (("okx",), '{venue} {{"code":"51001","data":[],"msg":"Instrument ID does not exist"}}'),
    (("okx",), '{venue} {{"code":"51603","data":[],"msg":"Order does not exist"}}'),
    (VENUES, "{venue} GET {url} request timed out ({ms} ms)"),
    (VENUES, "{venue} GET {url} 503 Service Unavailable"),
    (VENUES, "{venue} GET {url} 502 Bad Gateway"),
    (VENUES, "{venue} does not have market symbol {symbol}"),
    (VENUES, "{venue} fetchOrder() requires a symbol argument"),
    (VENUES, "{venue} order {order} not found for {symbol}"),
    (VENUES, "{venue} cancelOrder() client order id {client} rejected"),
)
TELEGRAM = (
    "could not reply to {user}: Forbidden: bot was blocked by the user",
    "could not reply to {user}: Bad Request: chat not found",
    "could not reply to {user}: Bad Request: message is too long",
    "Flood control exceeded. Retry in {secs} seconds",
    "update {update} from {user} failed after {ms} ms: Timed out",
    "telegram polling trouble: NetworkError: httpx.ConnectError: All connection attempts failed",
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    "refused user {user}: not in ALLOWED_USER_IDS",
    "user {user} asked for unknown symbol '{bad}'",
    "market-data answered 503 for /price {symbol} after {ms} ms (request {req})",
)
MARKET_DATA = (
    "fetch_ticker {symbol} on {venue} took {ms} ms (budget 1000 ms)",
    "stale price for {symbol} on {venue}: last update {secs} s ago",
    "price outlier on {venue} for {symbol}: {price} vs median {price} ({pct}% off)",
    "arbitrage spread {pct}% on {symbol}: buy {venue} at {price}, sell {other} at {price}",
    "circuit open for {venue} after {secs} consecutive failures",
    "no venue lists {symbol}",
    "request {req} cancelled by client after {ms} ms",
    "open interest for {symbol} missing from {venue}",
)


def _template(fmt: str) -> str:
    """The true template of a format: every field replaced with ``<*>``, doubled braces undone."""
    out, i = [], 0
    while i < len(fmt):
        if fmt.startswith("{{", i) or fmt.startswith("}}", i):
            out.append(fmt[i])
            i += 2
        elif fmt[i] == "{":
            i = fmt.index("}", i) + 1
            out.append("<*>")
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _formats() -> list[tuple[tuple[str, ...], str]]:
    """Every (venues, format) of the corpus; venue-free formats draw any venue."""
    return [*CCXT, *((VENUES, fmt) for fmt in TELEGRAM), *((VENUES, fmt) for fmt in MARKET_DATA)]


def _fill(fmt: str, rng: random.Random, venue: str) -> str:
    """Draw every field of ``fmt`` independently."""
    fields = [name for _, name, _, _ in string.Formatter().parse(fmt) if name]
    values = iter([SLOTS[name](rng, venue) for name in fields])
    parts = []
    for literal, name, _, _ in string.Formatter().parse(fmt):
        parts.append(literal)
        if name:
            parts.append(next(values))
    return "".join(parts)


def crypto_error_corpus(n: int = 3_000, seed: int = 0) -> list[tuple[str, str]]:
    """Return ``n`` (message, true template) pairs, every format drawn equally often, in shuffled order."""
    rng = random.Random(seed)
    formats = _formats()
    pairs = []
    for index in range(n):
        venues, fmt = formats[index % len(formats)]
        pairs.append((_fill(fmt, rng, rng.choice(venues)), _template(fmt)))
    rng.shuffle(pairs)
    return pairs
