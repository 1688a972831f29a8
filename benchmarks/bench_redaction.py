"""Redaction cost per record: our Redactor beside the obvious approach (each regex in turn, plain walk).

Run: .venv/bin/python -m benchmarks.bench_redaction [--quick]
Cases: the seed's context; the seed's message (repeats, as most messages do); fresh messages with
and without key=value parts; a ccxt DEBUG request line and an httpx Bot API line (both leaks).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks._timing import table
from crypto_observability.shared.redaction import Redactor

SEED_CONTEXT = {"symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 1234.5,
                "total_oi_usd": 1500000000, "exchange": "binance"}  # fmt: skip
CCXT_LINE = (
    "GET https://fapi.binance.com/fapi/v3/account?timestamp=1795832649819&recvWindow=10000"
    "&signature=8ea6ea05f54303eee4b285918520e5324790feb619dc57ce5e5f635007b5f7e1, Request: "
    "{'X-MBX-APIKEY': 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A', "
    "'User-Agent': 'python-requests/2.34.2', 'Accept-Encoding': 'gzip, deflate'} None"
)
TRACEBACK = (
    "Traceback (most recent call last):\n"
    + '  File "/app/services/market_data/unified_oi_aggregator.py", line 88, in fetch\n'
    "    data = await exchange.fetch_open_interest(symbol)\n" * 8
    + "ccxt.base.errors.RequestTimeout: binanceusdm GET https://fapi.binance.com/fapi/v1/openInterest"
    "?symbol=BTCUSDT request timeout (10000 ms)"
)
HTTPX_LINE = 'HTTP Request: POST https://api.telegram.org/bot7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8/getMe "HTTP/1.1 200 OK"'  # noqa: E501


class NaiveRedactor:
    """The obvious approach: every regex applied in turn to every string, keys checked on every call."""

    SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey",
                    "signature", "authorization", "credential", "token", "cookie", "sign")  # fmt: skip
    USER_KEYS = frozenset({"userid", "username", "chatid", "fromid", "phone", "phonenumber", "email"})
    PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
        (re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)"), "***"),
        (re.compile(r"(/bot)\d{6,10}:[A-Za-z0-9_-]+"), r"\1***"),
        (re.compile(r"\d{6,10}:[A-Za-z0-9_-]{30,}"), "***"),
        (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/=]+"), r"\1 ***"),
        (re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"), "***"),
        (re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@]*:[^\s/?#@]*@"), r"\1***@"),
        (re.compile(r"(?i)([?&;](?:signature|sign|api_?key|token|key)=)[^&\s,]+"), r"\1***"),
        (re.compile(r"(?i)(['\"](?:x-mbx-apikey|ok-access-(?:key|sign|passphrase)|x-bapi-(?:api-key|sign)|"
                    r"authorization|api-key)['\"]\s*:\s*['\"])[^'\"]*"), r"\1***"),
        (re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}"), "***"),
        (re.compile(r"(?i)\b((?:aws_secret_access_key|password|passwd|secret|token|api_?key)\s*[=:]\s*)"
                    r"[\"']?[^\s\"'&,;]+"), r"\1***"),
        (re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}"), "u_email"),
        (re.compile(r"\+\d{1,3}(?:[ -]?\(?\d{1,4}\)?){1,2}(?:[ -]?\d{2,4}){1,4}"), "u_phone"),
    )

    def redact_text(self, text: str) -> str:
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def redact_context(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {k: self._value(k, v) for k, v in ctx.items()}

    def _value(self, key: str, value: Any) -> Any:
        norm = key.lower().replace("-", "").replace("_", "").replace(" ", "").replace(".", "")
        if any(word in norm for word in self.SECRET_WORDS):
            return "***"
        if norm in self.USER_KEYS:
            return "u_hash"
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return self.redact_context(value)
        if isinstance(value, list | tuple):
            return [self._value("", v) for v in value]
        return value


def _median_us(op: Callable[[Any], Any], inputs: list[list[Any]]) -> float:
    """Median over repeats of the mean CPU cost per call on this thread (a loaded machine does not inflate it)."""
    samples = []
    for batch in inputs:
        started = time.thread_time()
        for item in batch:
            op(item)
        samples.append((time.thread_time() - started) / len(batch) * 1e6)
    return statistics.median(samples)


def _cases(n: int, repeats: int) -> list[tuple[str, str, list[list[Any]]]]:
    def fresh(template: str) -> list[list[str]]:
        return [[template.replace("#", f"{r}{i}") for i in range(n)] for r in range(repeats)]

    same = lambda item: [[item] * n for _ in range(repeats)]  # noqa: E731
    return [
        ("seed context (5 fields)", "context", same(SEED_CONTEXT)),
        ("seed message, repeated", "text", same("OI aggregation completed")),
        ("fresh 40-char message", "text", fresh("Fetched BTC-USDT from okx in # ms")),
        ("fresh message with k=v", "text", fresh("Fetched ticker: BTC-USDT last=#.5 from okx")),
        ("ccxt DEBUG request line", "text", fresh(CCXT_LINE + " #")),
        ("httpx Bot API line", "text", fresh(HTTPX_LINE + " #")),
        (f"stack trace ({len(TRACEBACK)} chars), repeated", "text", same(TRACEBACK)),
        (f"stack trace ({len(TRACEBACK)} chars), fresh", "text", fresh(TRACEBACK + " #")),
    ]


def main(argv: list[str] | None = None) -> int:
    """Time both redactors on each case and print medians (µs per call) and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (under ~10 s)")
    args = parser.parse_args(argv)
    n, repeats = (5_000, 5) if args.quick else (50_000, 9)
    ours, naive = Redactor(user_salt="bench"), NaiveRedactor()
    rows = []
    for label, kind, inputs in _cases(n, repeats):
        ours_op = ours.redact_context if kind == "context" else ours.redact_text
        naive_op = naive.redact_context if kind == "context" else naive.redact_text
        for batch in inputs[:1]:  # warm both (regex caches, key caches) on a separate round
            _median_us(ours_op, [batch[:100]])
            _median_us(naive_op, [batch[:100]])
        ours_us = _median_us(ours_op, inputs)
        naive_us = _median_us(naive_op, inputs)
        rows.append((label, f"{ours_us:.2f}", f"{naive_us:.2f}", f"{ours_us / naive_us:.2f}x"))
    print(table(rows, ("case", "Redactor µs", "regex-loop µs", "ratio")))
    print(f"(CPU µs per call on the calling thread, median of {repeats} rounds x {n:,} calls; fresh cases use "
          "distinct strings every call)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
