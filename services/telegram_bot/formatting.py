"""Turn market-data's JSON answers into short messages a person reads at a glance.

Plain text (no Markdown, so a symbol or exchange name can never break the parse mode):
a title, the headline number, one line per exchange, and a note naming the exchanges that
did not answer and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BULLET = "•"
_WHY = {
    "rate_limit": "rate limited", "timeout": "timed out", "network": "network error",
    "unavailable": "unavailable", "exchange": "exchange error", "bad_data": "bad data",
    "auth": "refused our credentials", "not_found": "does not list it", "validation": "rejected the request",
}


def price(value: float) -> str:
    """A price with thousands separators and as many decimals as its size needs."""
    if value >= 100:
        return f"${value:,.2f}"
    if value >= 1:
        return f"${value:,.4f}"
    return f"${value:.8f}".rstrip("0").rstrip(".")


def money(value: float) -> str:
    """A large USD amount, compact: $12.35B, $456.70M, $9,876."""
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"${value / size:,.2f}{unit}"
    return f"${value:,.0f}"


def percent(value: float | None) -> str:
    """A signed percentage, or an empty string when unknown."""
    return "" if value is None else f"{value:+.2f}%"


def partial_note(exchanges_failed: Mapping[str, str] | None) -> str:
    """'Note: bybit did not answer (rate limited).' for each exchange that failed, or ''."""
    if not exchanges_failed:
        return ""
    parts = [f"{name} did not answer ({_WHY.get(why, why.replace('_', ' '))})"
             for name, why in sorted(exchanges_failed.items())]
    return "Note: " + "; ".join(parts) + "."


def _lines(title: str, headline: str, rows: list[str], data: Mapping[str, Any]) -> str:
    note = partial_note(data.get("exchanges_failed"))
    return "\n".join([title, headline, *rows, *([note] if note else [])])


def format_price(data: Mapping[str, Any]) -> str:
    """/price: the median and each exchange's last price with its 24 h change."""
    changes = data.get("change_24h_pct") or {}
    rows = [f"{BULLET} {name}: {price(value)} {percent(changes.get(name))}".rstrip()
            for name, value in sorted(data.get("prices", {}).items())]
    return _lines(f"💰 {data['symbol']} price", f"Median: {price(data['median_price'])}", rows, data)


def format_open_interest(data: Mapping[str, Any]) -> str:
    """/oi: total open interest and each exchange's share."""
    total = float(data.get("total_oi_usd") or 0.0)
    rows = [f"{BULLET} {name}: {money(value)}{_share(value, total)}"
            for name, value in sorted(data.get("per_exchange_usd", {}).items(), key=lambda kv: -kv[1])]
    return _lines(f"📊 {data['symbol']} open interest", f"Total: {money(total)} (${total:,.0f})", rows, data)


def format_volume(data: Mapping[str, Any]) -> str:
    """/volume: total 24 h volume and each exchange's share."""
    total = float(data.get("total_volume_usd") or 0.0)
    rows = [f"{BULLET} {name}: {money(value)}{_share(value, total)}"
            for name, value in sorted(data.get("per_exchange_usd", {}).items(), key=lambda kv: -kv[1])]
    return _lines(f"📈 {data['symbol']} 24h volume", f"Total: {money(total)} (${total:,.0f})", rows, data)


def format_indicators(data: Mapping[str, Any]) -> str:
    """/analysis: RSI with its reading, MACD, EMAs and Bollinger bands."""
    rsi = float(data["rsi_14"])
    macd = data.get("macd") or {}
    bands = data.get("bollinger_20") or {}
    rows = [
        f"RSI(14): {rsi:.1f} ({_rsi_reading(rsi)})",
        f"MACD: {macd.get('macd', 0.0):,.2f} signal {macd.get('signal', 0.0):,.2f} "
        f"({'bullish' if macd.get('histogram', 0.0) >= 0 else 'bearish'})",
        f"EMA20: {price(float(data['ema_20']))}  EMA50: {price(float(data['ema_50']))}",
        f"Bollinger(20): {price(float(bands.get('lower', 0.0)))} - {price(float(bands.get('upper', 0.0)))}",
    ]
    headline = f"Last close: {price(float(data['last_close']))} ({data.get('exchange', '?')}, {data.get('timeframe')})"
    return _lines(f"🔎 {data['symbol']} analysis", headline, rows, data)


def format_long_short(data: Mapping[str, Any]) -> str:
    """/longshort: the average long/short account ratio and each exchange's."""
    rows = [f"{BULLET} {name}: {ratio:.2f} ({_long_share(ratio)})" for name, ratio in sorted(data["ratios"].items())]
    average = float(data["average_ratio"])
    return _lines(f"⚖️ {data['symbol']} long/short ratio", f"Average: {average:.2f} ({_long_share(average)})",
                  rows, data)


def _share(value: float, total: float) -> str:
    return f" ({value / total * 100:.1f}%)" if total > 0 else ""


def _long_share(ratio: float) -> str:
    longs = ratio / (1 + ratio) * 100 if ratio >= 0 else 0.0
    return f"{longs:.0f}% long / {100 - longs:.0f}% short"


def _rsi_reading(rsi: float) -> str:
    if rsi >= 70:
        return "overbought"
    if rsi <= 30:
        return "oversold"
    return "neutral"


FORMATTERS = {
    "price": format_price, "oi": format_open_interest, "volume": format_volume,
    "indicators": format_indicators, "long-short": format_long_short,
}
