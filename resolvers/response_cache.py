"""The anonymous response cache: serialized answers, invalidated by every committed write.

See docs/adr/0006-anonymous-response-cache.md. In short:

- Only POST requests without an Authorization header, whose document selects one `query`
  operation, are looked up or stored; only 200 answers without `errors` are stored.
- An entry is keyed by (query, variables, operationName, media type) and holds the exact
  response bytes. It is served only while
  (a) the data stamp it was computed under still holds: the stamp is the pair
      (this process's write count, the number of "changed" events heard from other
      processes). The write count moves after every write statement outside a
      transaction and after every COMMIT, whatever code issued it (the Tortoise clients
      are wrapped once per process, see `watch_writes`); the "changed" events are
      published by run_in_transaction after each commit and by the CLI; and
  (b) no time boundary it depends on has passed (schema/horizon.py), and it is younger
      than `max_age` (a bound on what a lost cross-process event can cost).
- Bounded LRU: at most `max_entries` entries and `max_bytes` bytes of bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType

from schema.horizon import CURRENT, Horizon
from schema.limits import selected_operation_type
from subscriptions.broker import RESYNC
from subscriptions.events import Event

log = logging.getLogger("parvis.cache")

# The broker channel on which every process announces its committed writes.
CHANGED_CHANNEL = "data-changed"
CHANGED = "changed"


# --- local writes: the process-wide write count ------------------------------------------


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


def _watch_statement(method: Any) -> Any:
    @functools.wraps(method)
    async def run(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            # After the statement (failed ones too: a failure after the server applied it
            # must not leave a stale answer). Inside a transaction the commit bumps again.
            if is_write(query):
                WriteCount.bump()

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


def _watch_commit(method: Any) -> Any:
    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        finally:
            WriteCount.bump()

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


_STATEMENT_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict",
                      "execute_script", "execute_query_dict_with_affected")


def watch_writes() -> None:
    """Wrap the Tortoise clients we use (asyncpg, SQLite) once per process, so every write,
    whichever code path issues it (mutations, the poll closer, CLI, tests), moves the
    write count. Idempotent."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    from tortoise.backends.base_postgres.client import BasePostgresClient
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    for cls in (BasePostgresClient, AsyncpgDBClient, TransactionWrapper, SqliteClient,
                SqliteTransactionWrapper):
        for name in _STATEMENT_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__parvis_watched__", False):
                setattr(cls, name, _watch_statement(method))
    for cls in (TransactionWrapper, SqliteTransactionWrapper):
        method = cls.__dict__["commit"]
        if not getattr(method, "__parvis_watched__", False):
            cls.commit = _watch_commit(method)


async def notify_changed(broker: Any) -> None:
    """Tell the other processes that data changed (after a commit). Never raises."""
    try:
        await broker.publish(Event(channel=CHANGED_CHANNEL, type=CHANGED, data={"o": ORIGIN}))
    except Exception:  # noqa: BLE001 - the writer's answer must not fail for this
        log.warning("could not announce a committed write to other processes", exc_info=True)


# Events this process published are already counted by the local write count.
ORIGIN = uuid.uuid4().hex


# --- keys ------------------------------------------------------------------------------


def cache_key(body: bytes, media_type: str) -> tuple[str, bytes, str | None, str] | None:
    """The key of a POSTed GraphQL request, or None when it is not a cacheable query."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or set(data) - {"query", "variables", "operationName"}:
        return None  # batches, persisted queries, extensions: not handled here
    query = data.get("query")
    variables = data.get("variables") or {}
    operation_name = data.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, dict):
        return None
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    if selected_operation_type(query, operation_name) != OperationType.QUERY:
        return None
    try:
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return query, canonical, operation_name, media_type


# --- the cache -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    body: bytes
    media_type: str
    stamp: tuple[int, int]
    expires: float


@dataclass
class Fill:
    """An answer being computed: the stamp when it started and its time horizon."""

    key: Any
    stamp: tuple[int, int]
    started: float
    horizon: Horizon
    cacheable: bool = False


class ResponseCache:
    """One per app. See the module docstring."""

    def __init__(self, broker: Any, *, max_entries: int = 1000, max_bytes: int = 32 * 2**20,
                 max_age: float = 60.0, watch_local_writes: bool = True, metrics: Any = None) -> None:
        self.broker = broker
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age = max_age
        # False only in tests that play "another process" inside this one.
        self.watch_local_writes = watch_local_writes
        self.metrics = metrics
        self.origin = ORIGIN if watch_local_writes else uuid.uuid4().hex
        self._entries: OrderedDict[Any, Entry] = OrderedDict()
        self._bytes = 0
        self._remote = 0
        self._listener: asyncio.Task[None] | None = None
        self._listening = False
        self.hits = self.misses = self.stored = 0
        watch_writes()
        from resolvers.page_cache import PageCache

        # Signed-in readers' hot lists, under this cache's stamp (resolvers/page_cache.py).
        self.pages = PageCache(self)

    # The stamp an answer is computed under; any committed write moves it.
    def stamp(self) -> tuple[int, int]:
        return (WriteCount.value if self.watch_local_writes else 0, self._remote)

    @property
    def ready(self) -> bool:
        """Whether other processes' writes reach us now (else nothing is served or stored)."""
        if not self._listening:
            return False
        connected = getattr(self.broker, "connected", None)
        return connected is None or connected.is_set()

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
        self.clear()

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
                log.warning("response cache listener failed; retrying", exc_info=True)
            finally:
                self._listening = False
                self._changed()
            await asyncio.sleep(1.0)

    def _changed(self) -> None:
        self._remote += 1
        self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self.pages.clear()

    def get(self, key: Any) -> Entry | None:
        if not self.ready:
            self.start()
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.stamp != self.stamp() or time.time() >= entry.expires:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def hits_seen(self) -> int:
        return self.hits

    def begin(self, key: Any) -> Fill:
        return Fill(key=key, stamp=self.stamp(), started=time.time(), horizon=Horizon())

    def put(self, fill: Fill, body: bytes, media_type: str) -> bool:
        """Store a computed answer if nothing it read may have changed meanwhile."""
        if not (fill.cacheable and self.ready and fill.stamp == self.stamp()):
            return False
        expires = fill.started + self.max_age
        if fill.horizon.until is not None:
            expires = min(expires, fill.horizon.until)
        if time.time() >= expires or len(body) > self.max_bytes // 4:
            return False
        self._drop(fill.key)
        self._entries[fill.key] = Entry(body, media_type, fill.stamp, expires)
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
        self.stored += 1
        return True

    def _drop(self, key: Any) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)


@contextlib.contextmanager
def recording(fill: Fill) -> Any:
    """Collect the time boundaries of the answer computed inside."""
    token = CURRENT.set(fill.horizon)
    try:
        yield fill
    finally:
        CURRENT.reset(token)
