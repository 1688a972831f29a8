"""Technical indicators from OHLCV closes with numpy: RSI, MACD, EMA and Bollinger bands."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def ema(values: Array, period: int) -> Array:
    """Exponential moving average, seeded with the first value."""
    alpha = 2.0 / (period + 1)
    out = np.empty_like(values)
    out[0] = values[0]
    for i in range(1, len(values)):
        out[i] = alpha * values[i] + (1 - alpha) * out[i - 1]
    return out


def rsi(closes: Array, period: int = 14) -> float:
    """Wilder's relative strength index of the last close (0-100)."""
    if len(closes) <= period:
        raise ValueError(f"RSI({period}) needs more than {period} closes, got {len(closes)}")
    deltas = np.diff(closes)
    gains, losses = np.clip(deltas, 0, None), np.clip(-deltas, 0, None)
    avg_gain, avg_loss = gains[:period].mean(), losses[:period].mean()
    for gain, loss in zip(gains[period:], losses[period:], strict=True):
        avg_gain = (avg_gain * (period - 1) + gain) / period
        avg_loss = (avg_loss * (period - 1) + loss) / period
    if avg_loss == 0:
        return 100.0
    return float(100 - 100 / (1 + avg_gain / avg_loss))


def macd(closes: Array, fast: int = 12, slow: int = 26, signal: int = 9) -> dict[str, float]:
    """MACD line, signal line and histogram of the last close."""
    line = ema(closes, fast) - ema(closes, slow)
    sig = ema(line, signal)
    return {"macd": float(line[-1]), "signal": float(sig[-1]), "histogram": float(line[-1] - sig[-1])}


def bollinger(closes: Array, period: int = 20, width: float = 2.0) -> dict[str, float]:
    """Middle, upper and lower Bollinger bands of the last close."""
    window = closes[-period:]
    middle, std = float(window.mean()), float(window.std())
    return {"middle": middle, "upper": middle + width * std, "lower": middle - width * std}


def all_indicators(closes: list[float]) -> dict[str, object]:
    """Every indicator the /indicators endpoint reports."""
    values = np.asarray(closes, dtype=np.float64)
    return {"rsi_14": round(rsi(values), 2), "macd": macd(values), "ema_20": float(ema(values, 20)[-1]),
            "ema_50": float(ema(values, 50)[-1]), "bollinger_20": bollinger(values), "candles": len(closes),
            "last_close": float(values[-1])}
