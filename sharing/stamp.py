"""What shared answers depend on: a version per table, moved by the writes that change it.

Every SQL statement Parvis runs goes through Tortoise's clients, which `watch_writes` wraps
once per process: a statement that writes names its tables (INSERT INTO, UPDATE, DELETE
FROM), and their versions move after it (at the outermost COMMIT when it runs in a
transaction, never for one that rolled back); a statement that only reads, while an answer
is being computed for reuse, records the tables it reads (sharing/horizon.py). A statement
whose tables cannot be told moves, or depends on, everything (the epoch). An answer is
served again only while the versions of the tables it read are those it was computed
under: a vote that changes a poll's tally drops what read poll_option, not the ideas or the
questions. Writes the database's own triggers make (models/stats.py) count as writes of the
statement that fired them. Other processes announce the tables they wrote on the broker after each commit
(`announce_write`). Reasoning and the windows that remain: docs/adr/0006, docs/adr/0012.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

from events.brokers import RESYNC, Broker
from events.envelopes import Event
from models.stats import TRIGGERED_WRITES
from sharing.horizon import note_tables

log = logging.getLogger("parvis.cache")

# The broker channel on which every process announces its committed writes.
CHANGED_CHANNEL = "data-changed"
CHANGED = "changed"
# Events this process published are already counted by the local versions.
ORIGIN = uuid.uuid4().hex
RETRY_LISTEN = 1.0
# A table name meaning "any table": what a statement whose tables cannot be told reads or writes.
EVERYTHING = "*"

R = TypeVar("R")

# (epoch, ((table, version), ...)): what an answer was computed under, in one set of versions.
Versioned = tuple[int, tuple[tuple[str, int], ...]]


class Versions:
    """A version per table, and an epoch that moves for writes of unknown tables."""

    def __init__(self) -> None:
        self.epoch = 0
        self.tables: defaultdict[str, int] = defaultdict(int)
        # Every move, whatever it moved (tests: reads never move anything).
        self.moves = 0

    def bump(self, tables: Iterable[str]) -> None:
        for table in tables:
            if table == EVERYTHING:
                self.epoch += 1
            else:
                self.tables[table] += 1
            self.moves += 1

    def of(self, tables: frozenset[str]) -> Versioned:
        """The versions of `tables` now (EVERYTHING among them: the epoch alone decides)."""
        return self.epoch, tuple(sorted((t, self.tables[t]) for t in tables if t != EVERYTHING))

    def holds(self, versioned: Versioned) -> bool:
        epoch, versions = versioned
        return epoch == self.epoch and all(self.tables[t] == v for t, v in versions)


# This process's writes, as the statements it runs show them.
LOCAL = Versions()

# A table name, perhaps quoted, perhaps after its schema ("public"."poll"): the last name.
_NAME = r'(?:"?\w+"?\.)?"?(\w+)"?'
_WRITE_ANYWHERE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+" + _NAME, re.I)
_DELETE = re.compile(r"\bDELETE\s+FROM\s+" + _NAME, re.I)
_READ = re.compile(r"\b(?:FROM|JOIN)\s+" + _NAME, re.I)
_READ_HEADS = frozenset({"SELECT", "SHOW", "EXPLAIN", "PRAGMA", "WITH"})


def is_write(sql: str) -> bool:
    """Conservative: a statement is a write unless it starts with a read keyword and names
    no INSERT, UPDATE or DELETE (a WITH may hide one)."""
    head = sql.lstrip(" \t\r\n(")[:8].split(None, 1)
    if not head or head[0].upper() not in _READ_HEADS:
        return True
    return head[0].upper() == "WITH" and _WRITE_ANYWHERE.search(sql) is not None


@functools.lru_cache(maxsize=1024)
def written_tables(sql: str) -> frozenset[str]:
    """The tables a write statement changes (EVERYTHING when they cannot be told)."""
    tables = frozenset(_WRITE_ANYWHERE.findall(sql))
    if not tables or re.match(r"\s*(CREATE|ALTER|DROP|TRUNCATE)\b", sql, re.I):
        return frozenset({EVERYTHING})
    # A deleted row takes with it (or changes) the rows whose foreign keys say so, and the
    # database's triggers write the counters of what is written (models/stats.py).
    tables = tables.union(*(cascades().get(table, ()) for table in _DELETE.findall(sql)))
    return tables.union(*(TRIGGERED_WRITES.get(table, ()) for table in tables))


_CASCADES: dict[str, frozenset[str]] | None = None


def cascades() -> dict[str, frozenset[str]]:
    """For each table, the tables a delete of its rows changes through foreign keys declared
    ON DELETE CASCADE, SET NULL or SET DEFAULT, followed to the end (from the models Tortoise
    knows; read once they are known)."""
    global _CASCADES
    if _CASCADES is not None:
        return _CASCADES
    if not Tortoise._inited:
        return {}
    direct: defaultdict[str, set[str]] = defaultdict(set)
    for models in Tortoise.apps.values():
        for model in models.values():
            meta = model._meta
            for name in meta.fk_fields | meta.o2o_fields:
                field = meta.fields_map[name]
                if str(getattr(field, "on_delete", "")) in _CHANGES_CHILD:
                    direct[field.related_model._meta.db_table].add(meta.db_table)
            for name in meta.m2m_fields:
                field = meta.fields_map[name]
                through = getattr(field, "through", None)
                if through:
                    direct[meta.db_table].add(through)
    closed: dict[str, frozenset[str]] = {}
    for table in direct:
        seen: set[str] = set()
        todo = [table]
        while todo:
            for child in direct.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        closed[table] = frozenset(seen)
    _CASCADES = closed
    return closed


_CHANGES_CHILD = frozenset({"CASCADE", "SET NULL", "SET DEFAULT",
                            "OnDelete.CASCADE", "OnDelete.SET_NULL", "OnDelete.SET_DEFAULT"})


@functools.lru_cache(maxsize=1024)
def read_tables(sql: str) -> frozenset[str]:
    """The tables a statement reads (EVERYTHING when they cannot be told)."""
    tables = frozenset(_READ.findall(sql))
    return tables or frozenset({EVERYTHING})


# The tables the transaction just committed in this task wrote: what announce_write tells.
COMMITTED: ContextVar[frozenset[str] | None] = ContextVar("parvis_committed", default=None)


def _pending(client: Any) -> set[str]:
    pending: set[str] | None = client.__dict__.get("_parvis_written")
    if pending is None:
        pending = client._parvis_written = set()
    return pending


def _outer(client: Any) -> Any | None:
    """The transaction a nested one (a savepoint) belongs to, if it is nested."""
    parent = getattr(client, "_parent", None)
    return parent if isinstance(parent, TransactionalDBClient) else None


def _watch_statement(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def run(self: Any, query: str, *args: Any, **kwargs: Any) -> R:
        if not is_write(query):
            note_tables(read_tables(query))
            return await method(self, query, *args, **kwargs)
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            # After the statement (failed ones too: a failure after the server applied it
            # must not leave a stale answer); in a transaction, at its outermost commit.
            tables = written_tables(query)
            if isinstance(self, TransactionalDBClient):
                _pending(self).update(tables)
            else:
                LOCAL.bump(tables)

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


def _watch_commit(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> R:
        written = frozenset(self.__dict__.pop("_parvis_written", ()))
        try:
            return await method(self, *args, **kwargs)
        finally:
            outer = _outer(self)
            if outer is not None:
                _pending(outer).update(written)  # a savepoint: the outer commit decides
            else:
                # Failed commits too: whether the server applied it cannot be told.
                LOCAL.bump(written)
                COMMITTED.set(written)

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


def _forget_writes(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> R:
        self.__dict__.pop("_parvis_written", None)  # rolled back: nothing changed
        return await method(self, *args, **kwargs)

    run.__parvis_watched__ = True  # type: ignore[attr-defined]
    return run


_STATEMENT_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict",
                      "execute_script", "execute_query_dict_with_affected")


def watch_writes() -> None:
    """Wrap the Tortoise clients Parvis uses (asyncpg, SQLite) once per process, so every
    statement, whichever code runs it (mutations, the poll closer, the CLI, tests), is seen.
    Idempotent."""
    for cls in (BasePostgresClient, AsyncpgDBClient, TransactionWrapper, SqliteClient,
                SqliteTransactionWrapper):
        for name in _STATEMENT_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__parvis_watched__", False):
                setattr(cls, name, _watch_statement(method))
    for wrapper in (TransactionWrapper, SqliteTransactionWrapper):
        for name, watch in (("commit", _watch_commit), ("release_savepoint", _watch_commit),
                            ("rollback", _forget_writes), ("savepoint_rollback", _forget_writes)):
            method = wrapper.__dict__.get(name)
            if method is not None and not getattr(method, "__parvis_watched__", False):
                setattr(wrapper, name, watch(method))


async def announce_write(broker: Broker, tables: Iterable[str] | None = None) -> None:
    """Tell the other processes which tables changed (after a commit: by default, those the
    transaction this task just committed wrote). Never raises."""
    changed = frozenset(tables) if tables is not None else COMMITTED.get()
    if changed is not None and not changed:
        return  # a transaction that wrote nothing
    names = sorted(changed) if changed is not None else [EVERYTHING]
    try:
        await broker.publish(Event(channel=CHANGED_CHANNEL, type=CHANGED, data={"o": ORIGIN, "t": names}))
    except Exception:  # noqa: BLE001 - the writer's answer must not fail for this
        log.warning("could not announce a committed write to other processes", exc_info=True)


@dataclass(frozen=True)
class Snapshot:
    local_epoch: int
    local: dict[str, int]
    remote_epoch: int
    remote: dict[str, int]


# What an answer depends on: the local versions of its tables (None when the stamp does not
# watch this process's writes) and those other processes announced.
Dependencies = tuple[Versioned | None, Versioned]


class DataStamp:
    """One per app: whether other processes' writes reach us, and their tables' versions.

    While nobody listens on the broker (before the first use, or while Redis is away) the
    stamp is not `hearing`, and no cache may serve or store anything."""

    def __init__(self, broker: Broker, *, watch_local_writes: bool = True) -> None:
        self.broker = broker
        # False only in tests that play "another process" inside this one.
        self.watch_local_writes = watch_local_writes
        self.origin = ORIGIN if watch_local_writes else uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._listening = False
        self._on_change: list[Callable[[], None]] = []
        self.remote = Versions()
        watch_writes()

    def depends(self, tables: frozenset[str]) -> Dependencies:
        """The versions an answer reading `tables` is computed under now."""
        return (LOCAL.of(tables) if self.watch_local_writes else None, self.remote.of(tables))

    def holds(self, dependencies: Dependencies) -> bool:
        """Whether nothing an answer read has changed since `depends` gave these."""
        local, remote = dependencies
        return (local is None or LOCAL.holds(local)) and self.remote.holds(remote)

    def snapshot(self) -> Snapshot:
        """Every version now: an answer about to be computed compares with it when done."""
        return Snapshot(LOCAL.epoch, dict(LOCAL.tables), self.remote.epoch, dict(self.remote.tables))

    def unchanged_since(self, snapshot: Snapshot, tables: frozenset[str]) -> Dependencies | None:
        """The dependencies of an answer that read `tables` since `snapshot`, if none of them
        changed meanwhile (else None: what it read may mix two states)."""
        named = sorted(t for t in tables if t != EVERYTHING)
        local = (snapshot.local_epoch, tuple((t, snapshot.local.get(t, 0)) for t in named))
        remote = (snapshot.remote_epoch, tuple((t, snapshot.remote.get(t, 0)) for t in named))
        dependencies = (local if self.watch_local_writes else None, remote)
        return dependencies if self.holds(dependencies) else None

    @property
    def hearing(self) -> bool:
        """Whether other processes' writes reach us now (else nothing is served or stored)."""
        if not self._listening:
            return False
        connected: asyncio.Event | None = getattr(self.broker, "connected", None)
        return connected is None or connected.is_set()

    def on_change(self, callback: Callable[[], None]) -> None:
        """`callback()` when everything may have changed (caches drop what they hold)."""
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
        self._everything_changed()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.broker.listen(CHANGED_CHANNEL) as queue:
                    self._listening = True
                    # Whatever was stored before we listened may have missed an event.
                    self._everything_changed()
                    while True:
                        event = await queue.get()
                        if event.type == RESYNC:
                            self._everything_changed()
                        elif event.data.get("o") != self.origin:
                            tables = event.data.get("t")
                            self.remote.bump(tables if isinstance(tables, list) else [EVERYTHING])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep listening; serve nothing meanwhile
                log.warning("data stamp listener failed; retrying", exc_info=True)
            finally:
                self._listening = False
                self._everything_changed()
            await asyncio.sleep(RETRY_LISTEN)

    def _everything_changed(self) -> None:
        self.remote.bump([EVERYTHING])
        for callback in self._on_change:
            callback()
