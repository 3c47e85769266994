"""The data stamp: what every shared answer is computed under, moved by every committed write.

A stamp is (this process's write count, the writes heard of from other processes). Anything
read while the stamp held may be served again only while it still holds. Local writes are
seen below the application, where Tortoise runs statements (`watch_writes`); other
processes announce theirs on the broker after each commit (`announce_write`). The reasoning,
and the windows that remain, are in docs/adr/0006-anonymous-response-cache.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

from events.brokers import RESYNC, Broker
from events.envelopes import Event

log = logging.getLogger("parvis.cache")

# The broker channel on which every process announces its committed writes.
CHANGED_CHANNEL = "data-changed"
CHANGED = "changed"
# Events this process published are already counted by the local write count.
ORIGIN = uuid.uuid4().hex
RETRY_LISTEN = 1.0

P = ParamSpec("P")
R = TypeVar("R")


class WriteCount:
    """Moves after every write statement that is not in a transaction and after every
    commit, in this process. Nothing that was read before it moved may be served after."""

    value = 0

    @classmethod
    def bump(cls) -> None:
        cls.value += 1


_READ_HEADS = frozenset({"SELECT", "SHOW", "EXPLAIN", "PRAGMA"})


def is_write(sql: str) -> bool:
    """Conservative: anything that does not start with a read keyword may write."""
    head = sql.lstrip(" \t\r\n(")[:8].split(None, 1)
    return not head or head[0].upper() not in _READ_HEADS


def _watch_statement(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def run(self: Any, query: str, *args: Any, **kwargs: Any) -> R:
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            # After the statement (failed ones too: a failure after the server applied it
            # must not leave a stale answer). Inside a transaction the commit bumps again.
            if is_write(query):
                WriteCount.bump()

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


def _watch_commit(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> R:
        try:
            return await method(self, *args, **kwargs)
        finally:
            WriteCount.bump()

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


_STATEMENT_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict",
                      "execute_script", "execute_query_dict_with_affected")


def watch_writes() -> None:
    """Wrap the Tortoise clients Parvis uses (asyncpg, SQLite) once per process, so every
    write, whichever code issues it (mutations, the poll closer, the CLI, tests), moves the
    write count. Idempotent."""
    for cls in (BasePostgresClient, AsyncpgDBClient, TransactionWrapper, SqliteClient,
                SqliteTransactionWrapper):
        for name in _STATEMENT_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__parvis_watched__", False):
                setattr(cls, name, _watch_statement(method))
    for wrapper in (TransactionWrapper, SqliteTransactionWrapper):
        commit = wrapper.__dict__["commit"]
        if not getattr(commit, "__parvis_watched__", False):
            setattr(wrapper, "commit", _watch_commit(commit))  # noqa: B010 - a method replaced on the class


async def announce_write(broker: Broker) -> None:
    """Tell the other processes that data changed (after a commit). Never raises."""
    try:
        await broker.publish(Event(channel=CHANGED_CHANNEL, type=CHANGED, data={"o": ORIGIN}))
    except Exception:  # noqa: BLE001 - the writer's answer must not fail for this
        log.warning("could not announce a committed write to other processes", exc_info=True)


class DataStamp:
    """One per app: the current stamp, and whether other processes' writes reach us.

    While nobody listens on the broker (before the first use, or while Redis is away) the
    stamp is not `hearing`, and no cache may serve or store anything under it."""

    def __init__(self, broker: Broker, *, watch_local_writes: bool = True) -> None:
        self.broker = broker
        # False only in tests that play "another process" inside this one.
        self.watch_local_writes = watch_local_writes
        self.origin = ORIGIN if watch_local_writes else uuid.uuid4().hex
        self._remote = 0
        self._listener: asyncio.Task[None] | None = None
        self._listening = False
        self._on_change: list[Callable[[], None]] = []
        watch_writes()

    def current(self) -> tuple[int, int]:
        return (WriteCount.value if self.watch_local_writes else 0, self._remote)

    @property
    def hearing(self) -> bool:
        """Whether other processes' writes reach us now (else nothing is served or stored)."""
        if not self._listening:
            return False
        connected: asyncio.Event | None = getattr(self.broker, "connected", None)
        return connected is None or connected.is_set()

    def on_change(self, callback: Callable[[], None]) -> None:
        """`callback()` whenever another process announces a write (caches drop what they hold)."""
        self._on_change.append(callback)

    def start(self) -> None:
        """Listen for other processes' writes (done on first use)."""
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        self._listening = False
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
        self._changed()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.broker.listen(CHANGED_CHANNEL) as queue:
                    self._listening = True
                    # Whatever was stored before we listened may have missed an event.
                    self._changed()
                    while True:
                        event = await queue.get()
                        if event.type == RESYNC or event.data.get("o") != self.origin:
                            self._changed()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep listening; serve nothing meanwhile
                log.warning("data stamp listener failed; retrying", exc_info=True)
            finally:
                self._listening = False
                self._changed()
            await asyncio.sleep(RETRY_LISTEN)

    def _changed(self) -> None:
        self._remote += 1
        for callback in self._on_change:
            callback()
