"""Hand-written SQL for the hot paths, on PostgreSQL and SQLite alike.

Building a statement through Tortoise and pypika costs more CPU than running it (profiles in
docs/performance.md), so the paths every request takes (the token lookup, the home lists, the
ballot) run fixed SQL text instead. Statements are written once in PostgreSQL's style:
`$1, $2...` placeholders, which SQLite also understands when spelled `?1, ?2...`; the text is
rewritten once per statement and cached. They run on Tortoise's connection for the current
context, so inside `in_transaction()` they are part of the transaction, and a write moves the
versions of the tables it names like any other statement (sharing/stamp.py, ADR 0012).

Rows come back as asyncpg Records or sqlite3 Rows: both index by name and position. Values
are what the driver returns: on SQLite, datetimes are ISO strings and booleans integers; use
`model_from_row` (Tortoise's own conversions).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)

_PLACEHOLDER = re.compile(r"\$(\d+)")


def client() -> BaseDBAsyncClient:
    """The connection (or the transaction) of the current context."""
    conn: BaseDBAsyncClient = connections.get("default")
    return conn


@functools.lru_cache(maxsize=256)
def _sqlite_text(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


def postgres(conn: BaseDBAsyncClient | None = None) -> bool:
    """Whether the current connection (or `conn`) is PostgreSQL's (else SQLite's)."""
    return bool((conn or client()).capabilities.dialect == "postgres")


def _text(conn: BaseDBAsyncClient, sql: str) -> str:
    return sql if postgres(conn) else _sqlite_text(sql)


_WRITE_HEADS = ("INSERT", "UPDATE", "DELETE")


class _Row(dict[str, Any]):
    """A row as a dict that also indexes by position, like asyncpg's and sqlite3's rows."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


async def fetch(sql: str, *args: Any) -> Sequence[Any]:
    """All rows of a SELECT, or of a write with RETURNING."""
    conn = client()
    text = _text(conn, sql)
    if postgres(conn) and text.lstrip()[:6].upper() in _WRITE_HEADS:
        # Tortoise's asyncpg client runs a statement starting with one of these without
        # fetching its rows (RETURNING would be lost): ask for rows explicitly.
        return [_Row(row) for row in await conn.execute_query_dict(text, list(args))]
    _, rows = await conn.execute_query(text, list(args))
    return rows


async def fetchrow(sql: str, *args: Any) -> Any | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def execute(sql: str, *args: Any) -> int:
    """Run a write without RETURNING; the number of rows an UPDATE or DELETE changed (for an
    INSERT, Tortoise's asyncpg client reports 0: use `fetch` with RETURNING instead). On
    SQLite the number includes the rows the stats triggers changed (models/stats.py): use it
    as "some or none" only, on the tables those triggers watch."""
    conn = client()
    changed, _ = await conn.execute_query(_text(conn, sql), list(args))
    return changed


def in_list(placeholder: str, sql_type: str, postgres: bool) -> str:
    """A test of a column against a list given as one argument (`list_argument`):
    `= ANY($1::int[])` on PostgreSQL, `IN (SELECT value FROM json_each($1))` on SQLite."""
    if postgres:
        return f"= ANY({placeholder}::{sql_type}[])"
    return f"IN (SELECT value FROM json_each({placeholder}))"


def list_argument(values: Sequence[Any], postgres: bool) -> Any:
    """A list as one statement argument, for `in_list`."""
    return list(values) if postgres else json.dumps(list(values))


async def fetch_grouped(statement: Callable[[bool], str], column: str, keys: Sequence[Any]) -> dict[Any, list[Any]]:
    """The rows of `statement(postgres)` for `keys` (its $1, tested with `in_list`), grouped by
    the value of `column` (for sharing/batches.py: each caller takes its key's rows)."""
    postgres_ = postgres()
    found: dict[Any, list[Any]] = {}
    for row in await fetch(statement(postgres_), list_argument(keys, postgres_)):
        found.setdefault(row[column], []).append(row)
    return found


def model_from_row(model: type[M], row: Mapping[str, Any] | Any, prefix: str = "") -> M:
    """A Tortoise model instance from a row holding all its columns (named `prefix + column`),
    converted as Tortoise converts its own reads."""
    if prefix:
        values = {name: row[prefix + name] for name in model._meta.db_fields}
    else:
        values = {name: row[name] for name in model._meta.db_fields}
    return model._init_from_db(**values)


def columns(model: type[Model], alias: str, prefix: str = "") -> str:
    """`alias.col AS prefixcol, ...` for every column of `model`, for a SELECT list (call it
    once Tortoise is initialised: foreign key columns are only known from then on)."""
    return ", ".join(f'{alias}."{name}" AS "{prefix}{name}"' for name in model._meta.db_fields)


def placeholders(count: int, start: int = 1) -> str:
    """`$start, $start+1, ...` for an IN list of `count` values."""
    return ", ".join(f"${i}" for i in range(start, start + count))
