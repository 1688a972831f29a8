"""Cost of a log call: our StructuredLogger and stdlib road beside structlog and python-json-logger.

Every contender writes the seed-shaped INFO event (5 context fields) as one JSON line to a
file in a temporary directory, in one run. Caller = CPU of the calling thread per call;
total = CPU of the whole process per call, writer thread included, measured to the flush.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from benchmarks._timing import Cost, measure, table

CONTEXT = {"symbol": "BTC-USDT", "exchanges_count": 6, "response_time_ms": 1234.5, "total_oi_usd": 1500000000,
           "exchange": "binance"}


def ours(tmp: Path, n: int) -> tuple[Cost, Cost, Cost, Cost, Cost]:
    """(event, dropped debug, stdlib record, timed() block, the event timed() logs) through our pipeline."""
    from crypto_observability.shared.logging_config import ensure_pipeline, shutdown_logging
    from crypto_observability.shared.settings import LogSettings
    from crypto_observability.shared.structured_logger import create_structured_logger

    settings = LogSettings(log_dir=tmp / "ours", console=False, file=True, monitoring=True,
                           environment="production", git_commit="c182b71f", max_bytes=1 << 40, user_salt="bench")
    pipeline = ensure_pipeline(settings)
    slog = create_structured_logger("market-data", "unified_oi_aggregator")

    def events(k: int) -> None:
        info = slog.info
        for _ in range(k):
            info("OI aggregation completed", symbol="BTC-USDT", exchanges_count=6, response_time_ms=1234.5,
                 total_oi_usd=1500000000, exchange="binance")

    def debugs(k: int) -> None:
        debug = slog.debug
        for _ in range(k):
            debug("OI aggregation completed", symbol="BTC-USDT", exchanges_count=6)

    third = logging.getLogger("httpx")

    def stdlib(k: int) -> None:
        for _ in range(k):
            third.info("HTTP Request: %s %s", "GET", "http://127.0.0.1/fapi/v1/ticker", extra={"context": CONTEXT})

    def timed_blocks(k: int) -> None:
        timed = slog.timed
        for _ in range(k):
            with timed("fetch_ticker", exchange="okx"):
                pass

    def timed_equivalent(k: int) -> None:
        log = slog.log
        for _ in range(k):
            log(20, "fetch_ticker completed", {"operation": "fetch_ticker", "exchange": "okx",
                                               "response_time_ms": 0.001, "success": True}, event="timed_operation")

    flush = pipeline.flush
    result = (measure(events, flush, n), measure(debugs, flush, n * 5), measure(stdlib, flush, n),
              measure(timed_blocks, flush, n), measure(timed_equivalent, flush, n))
    shutdown_logging()
    return result


def structlog_fastest(tmp: Path, n: int) -> tuple[Cost, Cost]:
    """structlog's fastest documented configuration writing bytes to a file."""
    import orjson
    import structlog

    handle = (tmp / "structlog.log").open("wb")
    structlog.configure(
        cache_logger_on_first_use=True,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        logger_factory=structlog.BytesLoggerFactory(handle),
    )
    log = structlog.get_logger().bind(service="market-data", module="unified_oi_aggregator")

    def events(k: int) -> None:
        info = log.info
        for _ in range(k):
            info("OI aggregation completed", symbol="BTC-USDT", exchanges_count=6, response_time_ms=1234.5,
                 total_oi_usd=1500000000, exchange="binance")

    def debugs(k: int) -> None:
        debug = log.debug
        for _ in range(k):
            debug("OI aggregation completed", symbol="BTC-USDT", exchanges_count=6)

    result = measure(events, handle.flush, n), measure(debugs, handle.flush, n * 5)
    handle.close()
    structlog.reset_defaults()
    return result


def python_json_logger(tmp: Path, n: int) -> Cost:
    """python-json-logger's orjson formatter on a stdlib FileHandler."""
    from pythonjsonlogger.orjson import OrjsonFormatter

    handler = logging.FileHandler(tmp / "pjl.log")
    handler.setFormatter(OrjsonFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("bench.pjl")
    logger.propagate, logger.handlers = False, [handler]
    logger.setLevel(logging.INFO)

    def stdlib(k: int) -> None:
        for _ in range(k):
            logger.info("HTTP Request: %s %s", "GET", "http://127.0.0.1/fapi/v1/ticker", extra={"context": CONTEXT})

    result = measure(stdlib, handler.flush, n)
    handler.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every contender in one process and print µs per call and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls (about 10 s)")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        event, dropped, third, timed, timed_plain = ours(tmp, n)
        s_event, s_dropped = structlog_fastest(tmp, n)
        pjl = python_json_logger(tmp, n)
    rows = [
        ("event: ours (StructuredLogger)", f"{event.caller_us:.2f}", f"{event.total_cpu_us:.2f}", ""),
        ("event: structlog fastest", f"{s_event.caller_us:.2f}", f"{s_event.total_cpu_us:.2f}", ""),
        ("  ratio ours/structlog", f"{event.caller_us / s_event.caller_us:.2f}",
         f"{event.total_cpu_us / s_event.total_cpu_us:.2f}", "goal <= 0.4 caller, <= 0.6 total"),
        ("timed() block, beyond the event it logs", f"{timed.caller_us - timed_plain.caller_us:+.2f}",
         f"{timed.total_cpu_us - timed_plain.total_cpu_us:+.2f}", "goal <= 2 µs"),
        ("dropped debug: ours", f"{dropped.caller_us:.3f}", "", "goal <= 0.3 µs"),
        ("dropped debug: structlog", f"{s_dropped.caller_us:.3f}", "", ""),
        ("stdlib record: ours (root handler)", f"{third.caller_us:.2f}", f"{third.total_cpu_us:.2f}", ""),
        ("stdlib record: python-json-logger orjson", f"{pjl.caller_us:.2f}", f"{pjl.total_cpu_us:.2f}", ""),
        ("  ratio ours/python-json-logger", f"{third.caller_us / pjl.caller_us:.2f}",
         f"{third.total_cpu_us / pjl.total_cpu_us:.2f}", "goal <= 1.0"),
    ]
    print(f"log call cost, µs per call, median of 5 runs of {n} calls (pid {os.getpid()})")
    print(table(rows, ("contender", "caller µs", "total CPU µs", "goal")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
