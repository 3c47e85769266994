"""Batches across requests: the reads that arrive while one is in flight go together in the next.

A busy process asks the same small statement for many requests at once: the token of each
signed-in request, the poll of each ballot. `Batches` groups them as the ballot writer groups
ballots (group commit, docs/adr/0022), for reads and idempotent writes: the first call starts a
statement at once; the calls arriving while it runs wait and go together in the next one, one
statement for all their keys. Under load, N requests cost about N / depth statements; a lone
request costs what it cost before (plus a task switch).

Freshness: a call is answered by a statement that *began after the call arrived* (never by one
already in flight), so a batched read sees every write committed before its request asked,
as its own statement would have: a token revoked before a request arrives is never accepted.

Isolation: `run` returns rows (immutable), never models; each caller builds its own objects,
so two requests never share a mutable instance. The statement runs in a task of its own,
outside any transaction and any answer being recorded for a cache (sharing/horizon.py).
A caller inside a transaction reads alone, in its transaction (a batch's statement could not
see its uncommitted writes, and on SQLite it would wait for the caller's connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from sharing.horizon import CURRENT
from sharing.stamp import COMMITTED

K = TypeVar("K", bound=Hashable)

# Keys per statement at most: a larger crowd goes in several statements, one after the other.
MAX_KEYS = 200


def _inside_transaction() -> bool:
    """Whether the current context runs inside a database transaction."""
    return isinstance(connections.get("default"), TransactionalDBClient)


@dataclass
class _Queue(Generic[K]):
    loop: asyncio.AbstractEventLoop
    waiting: dict[K, list[asyncio.Future[Sequence[Any]]]] = field(default_factory=dict)
    runner: asyncio.Task[None] | None = None


class Batches(Generic[K]):
    """Calls `run(keys)` for the keys asked while the previous call ran; each caller gets its
    key's rows (an empty sequence when `run` gave none). `run` must not raise for one key's
    sake: an exception reaches every caller of its batch."""

    def __init__(self, name: str, run: Callable[[list[K]], Awaitable[Mapping[K, Sequence[Any]]]]) -> None:
        self.name = name
        self._run = run
        self._queue: _Queue[K] | None = None
        # How many statements answered how many keys and callers (tests, bench).
        self.statements = self.keys = self.callers = 0

    async def get(self, key: K) -> Sequence[Any]:
        if _inside_transaction():
            return (await self._run([key])).get(key, ())
        loop = asyncio.get_running_loop()
        queue = self._queue
        if queue is None or queue.loop is not loop:  # a new event loop (tests): start afresh
            queue = self._queue = _Queue(loop)
        future: asyncio.Future[Sequence[Any]] = loop.create_future()
        queue.waiting.setdefault(key, []).append(future)
        if queue.runner is None:
            queue.runner = loop.create_task(self._drain(queue), name=f"parvis-batch-{self.name}")
        return await future

    async def _drain(self, queue: _Queue[K]) -> None:
        # This task's own copy of the context: nothing it reads is noted in an answer
        # being recorded, nothing it commits is announced as its creator's write.
        CURRENT.set(None)
        COMMITTED.set(None)
        try:
            while queue.waiting:
                keys = list(queue.waiting)[:MAX_KEYS]
                futures = [(key, queue.waiting.pop(key)) for key in keys]
                futures = [(key, [f for f in fs if not f.done()]) for key, fs in futures]  # cancelled callers
                keys = [key for key, fs in futures if fs]
                if not keys:
                    continue
                self.statements += 1
                self.keys += len(keys)
                self.callers += sum(len(fs) for _, fs in futures)
                try:
                    found = await self._run(keys)
                except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
                    for _, waiters in futures:
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(exc)
                    continue
                except BaseException:  # cancelled mid-statement: its callers are not left waiting
                    for _, waiters in futures:
                        for waiter in waiters:
                            waiter.cancel()
                    raise
                for key, waiters in futures:
                    rows = found.get(key, ())
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(rows)
        finally:
            queue.runner = None
            # Stopped (the loop closing, a cancellation): no caller waits forever.
            for waiters in queue.waiting.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.cancel()
            queue.waiting.clear()

