"""Awaits on Redis that always end: within their own time limit, and at once when the
operation awaiting them is cancelled.

redis-py can hold a cancellation back (an operation's timeout landing inside a call that
times out or reconnects on its own: measured, twelve wrong logIns ran 7 s past a 1.5 s
operation timeout, tests/security/test_timeouts.py). So the call runs in a task of its own
that the caller waits for without joining it: cancelled, the caller goes on at once and the
call is cancelled behind it; too slow, the call is cancelled and TimeoutError raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def bounded(call: Awaitable[T], seconds: float) -> T:
    """`call`'s result within `seconds`, else TimeoutError; a cancellation of the
    caller ends the wait at once (the call is cancelled, not waited for)."""
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except BaseException:
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError(f"redis did not answer within {seconds:g} s")
    return task.result()


def _abandon(task: asyncio.Future[T]) -> None:
    task.cancel()
    # Whatever it ends with is nobody's concern now ("exception never retrieved" otherwise).
    task.add_done_callback(_swallow)


def _swallow(task: asyncio.Future[T]) -> None:
    if not task.cancelled():
        task.exception()
