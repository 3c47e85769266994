"""Every SQL statement the suite runs, recorded once per text with the values of its first
run, so tests/cache/test_table_versions.py can compare the tables sharing/stamp.py reads from
a statement's text with those the database itself says the statement reads and writes."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

from sharing.stamp import watch_writes

# SQL text -> the values of its first run.
RECORDED: dict[str, tuple[Any, ...]] = {}

_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict",
            "execute_query_dict_with_affected")


def _recording(method: Callable[..., Awaitable[Any]], many: bool) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def run(self: Any, query: str, values: Any = None, *args: Any, **kwargs: Any) -> Any:
        if query not in RECORDED:
            first = values[0] if many and values else values
            RECORDED[query] = tuple(first or ())
        return await method(self, query, values, *args, **kwargs)

    run.__parvis_recorded__ = True  # type: ignore[attr-defined]
    return run


def record_statements() -> None:
    """Record from now on (once per process; after the stamp wraps the same methods)."""
    watch_writes()
    for cls in (BasePostgresClient, AsyncpgDBClient, TransactionWrapper, SqliteClient, SqliteTransactionWrapper):
        for name in _METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__parvis_recorded__", False):
                setattr(cls, name, _recording(method, many=name == "execute_many"))


def _closure(direct: dict[str, set[str]]) -> dict[str, set[str]]:
    closed: dict[str, set[str]] = {}
    for table in direct:
        seen: set[str] = set()
        todo = [table]
        while todo:
            for child in direct.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        closed[table] = seen
    return closed


class Truth:
    """What the database says a statement reads and writes (deletes with their cascades)."""

    async def of(self, sql: str, values: tuple[Any, ...]) -> tuple[set[str], set[str]]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class PostgresTruth(Truth):
    """From EXPLAIN's plan (every relation a node scans or modifies), pg_constraint, and the
    tables the source of each row trigger's function writes (EXPLAIN does not show them)."""

    def __init__(self, conn: asyncpg.Connection, cascades: dict[str, set[str]],
                 triggered: dict[str, set[str]]) -> None:
        self.conn = conn
        self.cascades = cascades
        self.triggered = triggered

    @classmethod
    async def connect(cls, dsn: str) -> PostgresTruth:
        conn = await asyncpg.connect(dsn)
        direct: defaultdict[str, set[str]] = defaultdict(set)
        for row in await conn.fetch(
                "SELECT confrelid::regclass::text AS parent, conrelid::regclass::text AS child "
                "FROM pg_constraint WHERE contype = 'f' AND confdeltype IN ('c', 'n', 'd')"):
            direct[row["parent"].strip('"')].add(row["child"].strip('"'))
        triggered: defaultdict[str, set[str]] = defaultdict(set)
        for row in await conn.fetch(
                "SELECT t.tgrelid::regclass::text AS target, p.prosrc FROM pg_trigger t "
                "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"):
            triggered[row["target"].strip('"')] |= set(_WRITES_IN_SOURCE.findall(row["prosrc"]))
        return cls(conn, _closure(direct), triggered)

    async def of(self, sql: str, values: tuple[Any, ...]) -> tuple[set[str], set[str]]:
        plan = json.loads(await self.conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *values))
        read: set[str] = set()
        written: set[str] = set()
        for node in _nodes(plan[0]["Plan"]):
            relation = node.get("Relation Name")
            if relation is None:
                continue
            if node.get("Node Type") == "ModifyTable":
                written.add(relation)
                written |= self.triggered.get(relation, set())
                if node.get("Operation") == "Delete":
                    written |= self.cascades.get(relation, set())
            else:
                read.add(relation)
        return read, written

    async def close(self) -> None:
        await self.conn.close()


_WRITES_IN_SOURCE = re.compile(r"\b(?:INSERT\s+INTO|(?<!DO\s)UPDATE|DELETE\s+FROM)\s+([a-z_]+)", re.I)


def _nodes(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


class SqliteTruth(Truth):
    """From SQLite's authorizer while it prepares the statement, and its foreign key lists."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path)
        direct: defaultdict[str, set[str]] = defaultdict(set)
        tables = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for child in tables:
            for fk in self.conn.execute(f'PRAGMA foreign_key_list("{child}")'):
                if fk[6].upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
                    direct[fk[2]].add(child)
        self.cascades = _closure(direct)
        self.read: set[str] = set()
        self.written: set[str] = set()
        self.conn.set_authorizer(self._authorize)

    def _authorize(self, action: int, table: str | None, *_: Any) -> int:
        if table and not table.startswith("sqlite_"):
            if action == sqlite3.SQLITE_READ:
                self.read.add(table)
            elif action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE):
                self.written.add(table)
            elif action == sqlite3.SQLITE_DELETE:
                self.written.add(table)
                self.written |= self.cascades.get(table, set())
        return sqlite3.SQLITE_OK

    async def of(self, sql: str, values: tuple[Any, ...]) -> tuple[set[str], set[str]]:
        self.read, self.written = set(), set()
        self.conn.execute("EXPLAIN " + sql, values)
        return self.read, self.written

    async def close(self) -> None:
        self.conn.close()


async def truth_for(database_url: str) -> Truth:
    if database_url.startswith("sqlite://"):
        return SqliteTruth(database_url.removeprefix("sqlite://"))
    return await PostgresTruth.connect(database_url.split("?", 1)[0])  # Tortoise's pool options off
