"""Error classification and fingerprints: categories from the type, stable grouping."""

from __future__ import annotations

import ccxt
import httpx
import pytest
import telegram.error

from crypto_observability.shared.errors import classify, error_info, fingerprint, message_template


@pytest.mark.parametrize(("exc", "expected"), [
    (ccxt.RateLimitExceeded("binance 429"), ("rate_limit", "medium")),
    (ccxt.DDoSProtection("418"), ("rate_limit", "medium")),
    (ccxt.RequestTimeout("timed out"), ("timeout", "medium")),
    (ccxt.OnMaintenance("maintenance"), ("unavailable", "high")),
    (ccxt.ExchangeNotAvailable("503"), ("unavailable", "high")),
    (ccxt.NetworkError("reset"), ("network", "medium")),
    (ccxt.AuthenticationError("bad key"), ("auth", "high")),
    (ccxt.BadSymbol("no NOTACOIN"), ("validation", "low")),
    (ccxt.ExchangeError("weird"), ("exchange", "medium")),
    (httpx.ConnectTimeout("slow"), ("timeout", "medium")),
    (httpx.ConnectError("refused"), ("network", "medium")),
    (telegram.error.RetryAfter(3), ("rate_limit", "low")),
    (telegram.error.TimedOut(), ("timeout", "medium")),
    (telegram.error.InvalidToken(), ("auth", "critical")),
    (TimeoutError(), ("timeout", "medium")),
    (ConnectionRefusedError(), ("network", "medium")),
    (ValueError("bad"), ("validation", "low")),
    (KeyError("k"), ("internal", "high")),
    (MemoryError(), ("resource", "critical")),
])
def test_category_and_severity_follow_the_exception_type(exc: BaseException, expected: tuple[str, str]) -> None:
    """CCXT's, httpx's, telegram's and the standard library's trees all map to a category."""
    assert classify(exc) == expected


def test_http_status_errors_are_classified_by_status() -> None:
    """An httpx HTTPStatusError is rate_limit on 429, auth on 401, dependency on 5xx."""
    request = httpx.Request("GET", "http://127.0.0.1/x")
    def status(code: int) -> httpx.HTTPStatusError:
        return httpx.HTTPStatusError("x", request=request, response=httpx.Response(code, request=request))
    assert classify(status(429))[0] == "rate_limit"
    assert classify(status(401))[0] == "auth"
    assert classify(status(503)) == ("dependency", "high")


def test_variable_parts_do_not_split_a_fingerprint() -> None:
    """Ids, numbers, symbols and URLs change; the fingerprint of the same error does not."""
    a = fingerprint("BadSymbol", "binance does not have market symbol BTC/USDT (id 123)", "client:fetch")
    b = fingerprint("BadSymbol", "binance does not have market symbol ETH/USDT (id 98765)", "client:fetch")
    c = fingerprint("BadSymbol", "GET https://fapi.binance.com/x?a=1 failed 'q'", "client:fetch")
    d = fingerprint("BadSymbol", "GET https://api.bybit.com/y failed 'zz'", "client:fetch")
    assert a == b and c == d


def test_different_errors_do_not_merge() -> None:
    """Another type, another message template or another frame is another fingerprint."""
    base = fingerprint("RequestTimeout", "okx timed out after 10000 ms", "client:fetch")
    assert base != fingerprint("ExchangeNotAvailable", "okx timed out after 10000 ms", "client:fetch")
    assert base != fingerprint("RequestTimeout", "okx refused the connection", "client:fetch")
    assert base != fingerprint("RequestTimeout", "okx timed out after 10000 ms", "cache:get")


def _raise_from_here(message: str) -> BaseException:
    try:
        raise TimeoutError(message)
    except TimeoutError as exc:
        return exc


def test_error_info_uses_the_top_in_app_frame_and_explicit_overrides() -> None:
    """error_info fingerprints by the raising function, and explicit values win."""
    first, second = _raise_from_here("after 5 s"), _raise_from_here("after 7 s")
    assert error_info(first).fingerprint == error_info(second).fingerprint
    info = error_info(first, category="dependency", severity="critical")
    assert (info.type, info.category, info.severity) == ("TimeoutError", "dependency", "critical")


def test_message_template_masks_variables() -> None:
    """The template keeps the words and masks the values."""
    assert message_template("user 42 sent 'hello' at https://x.io/a") == "user <num> sent <str> at <url>"
