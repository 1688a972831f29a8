"""UpdateQueue: getUpdates' offsets, long polling and conflicts, without HTTP in between."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.telegram_simulator.errors import ApiError
from services.telegram_simulator.updates import UpdateQueue


async def test_long_poll_returns_as_soon_as_an_update_arrives() -> None:
    """A waiting getUpdates answers the moment an update is pushed, well before its timeout."""
    queue = UpdateQueue()
    poll = asyncio.ensure_future(queue.get_updates(0, 100, timeout=30))
    await asyncio.sleep(0)
    queue.push({"message": {"text": "hi"}})
    result = await asyncio.wait_for(poll, 2)
    assert [u["update_id"] for u in result] == [1]


async def test_long_poll_times_out_empty() -> None:
    """With nothing pending, getUpdates waits its timeout and answers an empty list."""
    assert await UpdateQueue().get_updates(0, 100, timeout=0.05) == []


async def test_newer_poll_terminates_older_with_conflict() -> None:
    """A second getUpdates ends the first with 409, as Telegram does for two bot instances."""
    queue = UpdateQueue()
    older = asyncio.ensure_future(queue.get_updates(0, 100, timeout=30))
    await asyncio.sleep(0)
    newer = asyncio.ensure_future(queue.get_updates(0, 100, timeout=0))
    with pytest.raises(ApiError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 2)
    assert await newer == []


async def test_close_releases_long_polls() -> None:
    """Closing the queue answers waiting polls at once, so shutdown never waits for a timeout."""
    queue = UpdateQueue()
    poll = asyncio.ensure_future(queue.get_updates(0, 100, timeout=30))
    await asyncio.sleep(0)
    queue.close()
    assert await asyncio.wait_for(poll, 2) == []


async def test_allowed_updates_filters_types() -> None:
    """allowed_updates drops other update types, and the setting persists across calls."""
    queue = UpdateQueue()
    queue.push({"message": {}})
    queue.push({"callback_query": {}})
    assert [u["update_id"] for u in await queue.get_updates(0, 100, 0, ["callback_query"])] == [2]
    queue.push({"message": {}})
    assert await queue.get_updates(0, 100, 0) == [{"update_id": 2, "callback_query": {}}]


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(st.one_of(st.just("push"), st.integers(-3, 12)), max_size=30))
def test_offsets_never_redeliver_confirmed_updates(ops: list[object]) -> None:
    """For any pushes and offsets, ids only grow and an update below a confirmed offset never comes back."""

    async def run() -> None:
        queue, confirmed = UpdateQueue(), 0
        for op in ops:
            if op == "push":
                queue.push({"message": {}})
                continue
            assert isinstance(op, int)
            got = [u["update_id"] for u in await queue.get_updates(op, 100, 0)]
            assert got == sorted(got) and all(i >= confirmed for i in got)
            confirmed = max(confirmed, op)

    asyncio.run(run())
