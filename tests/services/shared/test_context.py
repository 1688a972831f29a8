"""Log context in contextvars: bind, restore, isolation between tasks, and threads."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from crypto_observability.shared.context import (
    bind_context,
    bound_context,
    clear_context,
    get_context,
    parse_traceparent,
    submit_with_context,
    unbind_context,
    with_context,
)


def test_bind_unbind_and_clear() -> None:
    """Keys accumulate, can be removed one by one, and clear empties everything."""
    bind_context(request_id="r1", symbol="BTC-USDT")
    bind_context(exchange="okx")
    assert get_context() == {"request_id": "r1", "symbol": "BTC-USDT", "exchange": "okx"}
    unbind_context("symbol")
    assert get_context() == {"request_id": "r1", "exchange": "okx"}
    clear_context()
    assert get_context() == {}


def test_bound_context_restores_previous_values() -> None:
    """A block's bindings disappear after it, and earlier values come back, even on error."""
    bind_context(request_id="outer")
    try:
        with bound_context(request_id="inner", step=2):
            assert get_context() == {"request_id": "inner", "step": 2}
            raise RuntimeError
    except RuntimeError:
        pass
    assert get_context() == {"request_id": "outer"}


async def test_tasks_do_not_see_each_others_context() -> None:
    """Two concurrent requests bound in their own tasks never mix their ids."""
    seen: dict[str, object] = {}

    async def request(rid: str) -> None:
        bind_context(request_id=rid)
        await asyncio.sleep(0)
        seen[rid] = get_context()["request_id"]

    await asyncio.gather(request("a"), request("b"))
    assert seen == {"a": "a", "b": "b"}
    assert get_context() == {}


def test_context_follows_work_into_threads_and_executors() -> None:
    """with_context and submit_with_context carry the caller's context to another thread."""
    bind_context(request_id="r-42")
    found: list[object] = []
    thread = threading.Thread(target=with_context(lambda: found.append(get_context().get("request_id"))))
    thread.start()
    thread.join()
    plain = threading.Thread(target=lambda: found.append(get_context().get("request_id")))
    plain.start()
    plain.join()
    with ThreadPoolExecutor(1) as pool:
        found.append(submit_with_context(pool, lambda: get_context().get("request_id")).result())
    assert found == ["r-42", None, "r-42"]


def test_traceparent_parsing() -> None:
    """A valid W3C traceparent gives ids; malformed or all-zero ones give None."""
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(header) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert parse_traceparent("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None
    assert parse_traceparent("garbage") is None
    assert parse_traceparent(None) is None
