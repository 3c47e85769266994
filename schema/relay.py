"""Relay building blocks: global ids, the Node interface, cursor connections.

Global ids are opaque (base64 of "Kind:pk"); a member keeps the kind "Member" whatever
its role, so its id does not change when a citizen is appointed official.
Connections page by keyset on integer sort keys ending with the primary key, so a
row added while a client pages neither shifts nor repeats the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

T = TypeVar("T")
M = TypeVar("M")

MAX_PAGE_SIZE = 100
# Primary keys are 32-bit integers (int4 on PostgreSQL): a larger pk names no row, and
# asyncpg refuses to even send it ("value out of int32 range").
MAX_PK = 2**31 - 1
DEFAULT_PAGE_SIZE = 20


def encode_id(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[str, int] | None:
    """(kind, pk) of a global id, or None when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        kind, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        value = int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if not kind or value <= 0 or value > MAX_PK:
        return None
    return kind, value


def decode_id_of(global_id: str | None, *kinds: str) -> int | None:
    """The pk of a global id of one of `kinds`, or None."""
    if global_id is None:
        return None
    decoded = decode_id(global_id)
    if decoded is None or decoded[0] not in kinds:
        return None
    return decoded[1]


@strawberry.interface(description="An object with a global id, resolvable through Query.node.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's opaque global id.")


@strawberry.type(description="Where a page stands in its connection (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="An item of a connection, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque cursor of this item, for after/before.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, Relay-style: edges, page info and total count.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds.")
    async def total_count(self) -> int:
        return await self.count()


def encode_cursor(values: Sequence[int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise bad_argument("This cursor is not valid.") from exc
    if (
        not isinstance(values, list)
        or len(values) != width
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    ):
        raise bad_argument("This cursor is not valid.")
    return values


def bad_argument(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def check_page_size(first: int | None, last: int | None) -> None:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise bad_argument(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.")


@dataclass(frozen=True)
class SortKey:
    """An integer column to order by; the last key of an order must be unique (the pk)."""

    field: str
    descending: bool = True


NEWEST_FIRST = (SortKey("id"),)
OLDEST_FIRST = (SortKey("id", descending=False),)


def _beyond(order: Sequence[SortKey], values: Sequence[int], forward: bool) -> Q:
    """Rows strictly after `values` in `order` (or strictly before when not forward)."""
    alternatives: list[Q] = []
    for i, key in enumerate(order):
        going_down = key.descending == forward
        clause = Q(**{f"{key.field}__{'lt' if going_down else 'gt'}": values[i]})
        for prior, value in zip(order[:i], values[:i], strict=True):
            clause &= Q(**{prior.field: value})
        alternatives.append(clause)
    combined = alternatives[0]
    for clause in alternatives[1:]:
        combined |= clause
    return combined


def _ordering(order: Sequence[SortKey], forward: bool) -> list[str]:
    return [("-" if key.descending == forward else "") + key.field for key in order]


async def paginate(
    queryset: QuerySet[Any],
    mapper: Callable[[Any], T],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order: Sequence[SortKey] = NEWEST_FIRST,
) -> Connection[T]:
    """One page of `queryset` in `order` (keyset pagination); totalCount on demand."""
    check_page_size(first, last)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    base = queryset
    page = queryset
    if after is not None:
        page = page.filter(_beyond(order, decode_cursor(after, len(order)), forward=True))
    if before is not None:
        page = page.filter(_beyond(order, decode_cursor(before, len(order)), forward=False))

    async def fetch(forward: bool, limit: int) -> list[Any]:
        return list(await page.order_by(*_ordering(order, forward)).limit(limit))

    async def count() -> int:
        return await base.count()

    rows, has_next, has_previous = await _window(fetch, first, after, last, before)
    return _connection(
        [Edge(cursor=encode_cursor([getattr(row, key.field) for key in order]), node=mapper(row))
         for row in rows],
        has_next, has_previous, count,
    )


async def _window(
    fetch: Callable[[bool, int], Awaitable[list[Any]]],
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> tuple[list[Any], bool, bool]:
    """The rows of a page, in order, and whether rows follow and precede it. `fetch(forward,
    limit)` reads up to `limit` rows beyond the cursors, in (forward) or against the order."""
    has_next = has_previous = False
    if first is not None:
        rows = await fetch(True, first + 1)
        has_next = len(rows) > first
        rows = rows[:first]
        has_previous = after is not None
        if last is not None:
            has_previous = has_previous or len(rows) > last
            rows = rows[len(rows) - last :] if last else []
    else:
        assert last is not None
        rows = await fetch(False, last + 1)
        has_previous = len(rows) > last
        rows = list(reversed(rows[:last]))
        has_next = before is not None
    return rows, has_next, has_previous


def _connection(edges: list[Edge[T]], has_next: bool, has_previous: bool,
                count: Callable[[], Awaitable[int]]) -> Connection[T]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


def connection_of(
    items: Sequence[M], mapper: Callable[[M], T], key: Callable[[M], Sequence[int]]
) -> Connection[T]:
    """A single-page connection over items already in memory (no further page)."""
    edges = [Edge(cursor=encode_cursor(key(item)), node=mapper(item)) for item in items]
    total = len(edges)

    async def count() -> int:
        return total

    return _connection(edges, False, False, count)


# --- the same pages in hand-written SQL (the hot lists: see resolvers/sql.py) ------------


@dataclass(frozen=True)
class SqlList:
    """A list in SQL: `select` is `SELECT <columns> FROM <table> <alias> [JOIN ...]`, `table`
    and `alias` name the listed table (sort keys are its columns), `where` holds conditions
    over it with `$1..$n` placeholders for `args`."""

    select: str
    table: str
    alias: str
    where: tuple[str, ...]
    args: tuple[Any, ...]

    def narrowed(self, condition: str, *args: Any) -> SqlList:
        """Another condition; its placeholders `$1..` are numbered from 1 and renumbered."""
        shifted = _shift(condition, len(self.args))
        return SqlList(self.select, self.table, self.alias, (*self.where, shifted), (*self.args, *args))


def _shift(condition: str, by: int) -> str:
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + by}", condition)


def _beyond_sql(alias: str, order: Sequence[SortKey], values: Sequence[int], forward: bool,
                start: int) -> tuple[str, list[int]]:
    """The SQL form of _beyond: rows strictly after (or before) `values` in `order`."""
    alternatives: list[str] = []
    args: list[int] = []
    for i, key in enumerate(order):
        going_down = key.descending == forward
        parts = []
        for prior, value in zip(order[:i], values[:i], strict=True):
            args.append(value)
            parts.append(f'{alias}."{prior.field}" = ${start + len(args)}')
        args.append(values[i])
        parts.append(f'{alias}."{key.field}" {"<" if going_down else ">"} ${start + len(args)}')
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", args


async def paginate_sql(
    source: SqlList,
    mapper: Callable[[Any], T],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order: Sequence[SortKey] = NEWEST_FIRST,
    prefix: str = "",
) -> Connection[T]:
    """paginate() for a SqlList: one statement per page, rows handed to `mapper` as the
    driver returns them (sort key columns selected as `prefix + column`)."""
    from resolvers import sql

    check_page_size(first, last)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    page = source
    for cursor, forward in ((after, True), (before, False)):
        if cursor is not None:
            condition, values = _beyond_sql(
                source.alias, order, decode_cursor(cursor, len(order)), forward, 0
            )
            page = page.narrowed(condition, *values)

    async def fetch(forward: bool, limit: int) -> list[Any]:
        ordering = ", ".join(
            f'{source.alias}."{key.field}" {"DESC" if key.descending == forward else "ASC"}'
            for key in order
        )
        where = " AND ".join(page.where) or "TRUE"
        args = [*page.args, limit]
        return list(await sql.fetch(
            f"{page.select} WHERE {where} ORDER BY {ordering} LIMIT ${len(args)}", *args
        ))

    async def count() -> int:
        where = " AND ".join(source.where) or "TRUE"
        rows = await sql.fetch(
            f"SELECT COUNT(*) FROM {source.table} {source.alias} WHERE {where}", *source.args
        )
        return int(rows[0][0])  # COUNT(*) always returns one row

    rows, has_next, has_previous = await _window(fetch, first, after, last, before)
    return _connection(
        [Edge(cursor=encode_cursor([row[prefix + key.field] for key in order]), node=mapper(row))
         for row in rows],
        has_next, has_previous, count,
    )
