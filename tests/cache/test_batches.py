"""sharing/batches.py: the reads that arrive while one is in flight go together in the next."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sharing.batches import Batches


class Recorder:
    """A `run` that records the keys of each call, and can be held at its door."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail = False

    async def __call__(self, keys: list[int]) -> dict[int, list[Any]]:
        self.calls.append(list(keys))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return {key: [("row of", key)] for key in keys if key != 404}


async def test_callers_of_one_moment_share_one_call_and_each_gets_its_own_rows() -> None:
    run = Recorder()
    batches: Batches[int] = Batches("test", run)
    answers = await asyncio.gather(*(batches.get(key) for key in (1, 2, 3, 2, 404)))
    assert run.calls == [[1, 2, 3, 404]]  # one call, each key once
    assert answers == [[("row of", 1)], [("row of", 2)], [("row of", 3)], [("row of", 2)], ()]


async def test_a_caller_arriving_during_a_call_waits_for_the_next_one() -> None:
    # A call's answer must come from a statement that began after it arrived (freshness).
    run = Recorder()
    run.gate = asyncio.Event()
    batches: Batches[int] = Batches("test", run)
    first = asyncio.ensure_future(batches.get(1))
    await run.entered.wait()
    late = [asyncio.ensure_future(batches.get(key)) for key in (1, 2)]
    await asyncio.sleep(0)
    assert run.calls == [[1]]
    run.gate.set()
    assert await first == [("row of", 1)]
    assert await asyncio.gather(*late) == [[("row of", 1)], [("row of", 2)]]
    assert run.calls == [[1], [1, 2]]  # key 1 again: the late caller is not served the earlier read


async def test_a_failure_reaches_its_callers_only() -> None:
    run = Recorder()
    run.fail = True
    batches: Batches[int] = Batches("test", run)
    results = await asyncio.gather(batches.get(1), batches.get(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    run.fail = False
    assert await batches.get(3) == [("row of", 3)]


async def test_a_cancelled_caller_leaves_the_others_answered() -> None:
    run = Recorder()
    run.gate = asyncio.Event()
    batches: Batches[int] = Batches("test", run)
    leaving = asyncio.ensure_future(batches.get(1))
    staying = asyncio.ensure_future(batches.get(1))
    await run.entered.wait()
    leaving.cancel()
    run.gate.set()
    assert await staying == [("row of", 1)]
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_call_cancelled_mid_statement_leaves_no_caller_waiting() -> None:
    run = Recorder()
    run.gate = asyncio.Event()
    batches: Batches[int] = Batches("test", run)
    callers = [asyncio.ensure_future(batches.get(key)) for key in (1, 2)]
    await run.entered.wait()
    queue = batches._queue
    assert queue is not None and queue.runner is not None
    queue.runner.cancel()  # the loop closing under it
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 2)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    run.gate.set()
    assert await batches.get(3) == [("row of", 3)]  # and the next caller starts afresh


async def test_a_crowd_larger_than_a_statement_goes_in_several(monkeypatch: Any) -> None:
    import sharing.batches

    monkeypatch.setattr(sharing.batches, "MAX_KEYS", 3)
    run = Recorder()
    batches: Batches[int] = Batches("test", run)
    answers = await asyncio.gather(*(batches.get(key) for key in range(7)))
    assert answers == [[("row of", key)] for key in range(7)]
    assert run.calls == [[0, 1, 2], [3, 4, 5], [6]]


async def test_a_caller_inside_a_transaction_reads_alone_in_it() -> None:
    from tortoise.transactions import in_transaction

    run = Recorder()
    batches: Batches[int] = Batches("test", run)
    async with in_transaction():
        assert await batches.get(5) == [("row of", 5)]
    assert run.calls == [[5]]
    assert batches.statements == 0 and batches._queue is None  # no batch task was involved
