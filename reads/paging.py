"""Keyset pages: one page of a list, in a fixed order, from a Tortoise queryset or fixed SQL.

A page is read after (or before) a cursor that holds the sort key values of an item, so an
item added while a client pages neither shifts nor repeats the next page. Orders are integer
columns ending with the primary key. `schema.relay` turns a `Page` into a Relay connection.
Reasoning: docs/adr/0003.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from graphql import GraphQLError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from reads import sql

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Sort keys are 32-bit integers (int4 on PostgreSQL): a larger value names no row, and
# asyncpg refuses to even send it (SQLite past 64 bits): a cursor beyond is not one of ours.
MAX_KEY = 2**31 - 1
# Expression keys (an order computed in SQL) are 64-bit.
MAX_WIDE_KEY = 2**63 - 1
# A cursor holds at most a few sort keys of 20 digits each, and the order's name.
MAX_CURSOR_LENGTH = 200


class ArgumentError(GraphQLError):
    """A refused argument of a read: `msgid` is the catalogue's msgid (English, `{name}`
    placeholders), `params` its values. Reads come before access/, so the error extension
    (schema/errors.py) puts it in the reader's language when the error is reported."""

    def __init__(self, msgid: str, params: dict[str, Any]) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**params), extensions={"code": "BAD_USER_INPUT"})


def bad_argument(message: str, **params: Any) -> GraphQLError:
    """A refused argument of a read (a page size, a cursor, too many ids): BAD_USER_INPUT."""
    return ArgumentError(message, params)


def encode_cursor(values: Sequence[int], tag: str | None = None) -> str:
    """A cursor: the sort key values, with the order's name when the list has several orders
    (`tag`), so a cursor of one order is refused by another."""
    data: Any = list(values) if tag is None else {"o": tag, "k": list(values)}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int, tag: str | None = None, bound: int = MAX_KEY) -> list[int]:
    """The sort key values of a cursor of this order, each within [-bound-1, bound];
    BAD_USER_INPUT when it is not one of ours, or one of another order of the list (orjson
    refuses what the standard library let through as a RecursionError: a cursor of 5,000
    nested lists; ours are short anyway)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_argument("This cursor is not valid.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise bad_argument("This cursor is not valid.") from exc
    if tag is not None:
        if not isinstance(values, dict) or values.get("o") != tag or set(values) != {"o", "k"}:
            raise bad_argument("This cursor belongs to another order of this list.")
        values = values["k"]
    if (
        not isinstance(values, list)
        or len(values) != width
        or not all(isinstance(v, int) and not isinstance(v, bool) and -bound - 1 <= v <= bound for v in values)
    ):
        raise bad_argument("This cursor is not valid.")
    return values


def decode_keys(cursor: str, order: Sequence[SortKey], tag: str | None = None) -> list[int]:
    """decode_cursor for `order`, each value in its key's range: a column key is a 32-bit
    integer (a larger value names no row, and asyncpg refuses to even send it), an
    expression key a 64-bit one."""
    values = decode_cursor(cursor, len(order), tag, bound=MAX_WIDE_KEY)
    for key, value in zip(order, values, strict=True):
        bound = MAX_WIDE_KEY if key.expression else MAX_KEY
        if not -bound - 1 <= value <= bound:
            raise bad_argument("This cursor is not valid.")
    return values


def check_page_size(first: int | None, last: int | None) -> None:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise bad_argument("`{argument}` must be between {min} and {max}.", argument=name, min=0, max=MAX_PAGE_SIZE)


@dataclass(frozen=True)
class SortKey:
    """An integer column to order by; the last key of an order must be unique (the pk).

    With `expression` (fixed SQL lists only), the key is that integer SQL expression over the
    listed table (`{alias}` stands for its alias), selected as `field`."""

    field: str
    descending: bool = True
    expression: str | None = None

    def sql(self, alias: str) -> str:
        return self.expression.format(alias=alias) if self.expression else f'{alias}."{self.field}"'


NEWEST_FIRST = (SortKey("id"),)
OLDEST_FIRST = (SortKey("id", descending=False),)


@dataclass(frozen=True)
class PageArgs:
    """first/after/last/before as a client gave them (hashable: a shared part's key)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: its items with their cursors, whether items follow and precede it, and
    the whole list's size on demand."""

    items: list[tuple[str, T]]
    has_next: bool
    has_previous: bool
    count: Callable[[], Awaitable[int]]


def _beyond(order: Sequence[SortKey], values: Sequence[int], forward: bool) -> Q:
    """Rows strictly after `values` in `order` (or strictly before when not forward)."""
    alternatives: list[Q] = []
    for i, key in enumerate(order):
        going_down = key.descending == forward
        beyond: dict[str, Any] = {f"{key.field}__{'lt' if going_down else 'gt'}": values[i]}
        clause = Q(**beyond)
        for prior, value in zip(order[:i], values[:i], strict=True):
            equal: dict[str, Any] = {prior.field: value}
            clause &= Q(**equal)
        alternatives.append(clause)
    combined = alternatives[0]
    for clause in alternatives[1:]:
        combined |= clause
    return combined


def _ordering(order: Sequence[SortKey], forward: bool) -> list[str]:
    return [("-" if key.descending == forward else "") + key.field for key in order]


async def _window(
    fetch: Callable[[bool, int], Awaitable[list[Any]]], args: PageArgs,
) -> tuple[list[Any], bool, bool]:
    """The rows of a page, in order, and whether rows follow and precede it. `fetch(forward,
    limit)` reads up to `limit` rows beyond the cursors, in (forward) or against the order."""
    first, last = args.first, args.last
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    has_next = has_previous = False
    if first is not None:
        rows = await fetch(True, first + 1)
        has_next = len(rows) > first
        rows = rows[:first]
        has_previous = args.after is not None
        if last is not None:
            has_previous = has_previous or len(rows) > last
            rows = rows[len(rows) - last :] if last else []
    else:
        assert last is not None
        rows = await fetch(False, last + 1)
        has_previous = len(rows) > last
        rows = list(reversed(rows[:last]))
        has_next = args.before is not None
    return rows, has_next, has_previous


async def page_of(queryset: QuerySet[Any], args: PageArgs, order: Sequence[SortKey] = NEWEST_FIRST) -> Page[Any]:
    """One page of the queryset's rows in `order`."""
    check_page_size(args.first, args.last)
    page = queryset
    if args.after is not None:
        page = page.filter(_beyond(order, decode_keys(args.after, order), forward=True))
    if args.before is not None:
        page = page.filter(_beyond(order, decode_keys(args.before, order), forward=False))

    async def fetch(forward: bool, limit: int) -> list[Any]:
        return list(await page.order_by(*_ordering(order, forward)).limit(limit))

    async def count() -> int:
        return await queryset.count()

    rows, has_next, has_previous = await _window(fetch, args)
    return Page(
        [(encode_cursor([getattr(row, key.field) for key in order]), row) for row in rows],
        has_next, has_previous, count,
    )


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

    def with_columns(self, columns: Sequence[str]) -> SqlList:
        """The same list selecting these columns too (`<expression> AS "<name>"`)."""
        if not columns:
            return self
        head, rest = self.select.split("SELECT ", 1)
        return SqlList(f"{head}SELECT {', '.join(columns)}, {rest}", self.table, self.alias, self.where, self.args)

    def narrowed(self, condition: str, *args: Any) -> SqlList:
        """Another condition; its placeholders `$1..` are numbered from 1 and renumbered."""
        shifted = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + len(self.args)}", condition)
        return SqlList(self.select, self.table, self.alias, (*self.where, shifted), (*self.args, *args))


def _beyond_sql(alias: str, order: Sequence[SortKey], values: Sequence[int], forward: bool) -> tuple[str, list[int]]:
    """The SQL form of _beyond: rows strictly after (or before) `values` in `order`."""
    alternatives: list[str] = []
    args: list[int] = []
    for i, key in enumerate(order):
        going_down = key.descending == forward
        parts = []
        for prior, value in zip(order[:i], values[:i], strict=True):
            args.append(value)
            parts.append(f"{prior.sql(alias)} = ${len(args)}")
        args.append(values[i])
        parts.append(f'{key.sql(alias)} {"<" if going_down else ">"} ${len(args)}')
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", args


async def page_of_sql(source: SqlList, args: PageArgs, order: Sequence[SortKey] = NEWEST_FIRST,
                      prefix: str = "", tag: str | None = None) -> Page[Any]:
    """page_of for a SqlList: one statement per page, rows as the driver returns them (the
    sort key columns selected as `prefix + column`). `tag` names the order in the cursors,
    for lists that have several."""
    check_page_size(args.first, args.last)
    page = source.with_columns(
        [f'{key.sql(source.alias)} AS "{prefix}{key.field}"' for key in order if key.expression]
    )
    for cursor, forward in ((args.after, True), (args.before, False)):
        if cursor is not None:
            values = decode_keys(cursor, order, tag)
            condition, bound = _beyond_sql(source.alias, order, values, forward)
            page = page.narrowed(condition, *bound)

    async def fetch(forward: bool, limit: int) -> list[Any]:
        ordering = ", ".join(
            f'{key.sql(source.alias)} {"DESC" if key.descending == forward else "ASC"}'
            for key in order
        )
        where = " AND ".join(page.where) or "TRUE"
        values = [*page.args, limit]
        return list(await sql.fetch(
            f"{page.select} WHERE {where} ORDER BY {ordering} LIMIT ${len(values)}", *values
        ))

    async def count() -> int:
        where = " AND ".join(source.where) or "TRUE"
        rows = await sql.fetch(f"SELECT COUNT(*) FROM {source.table} {source.alias} WHERE {where}", *source.args)
        return int(rows[0][0])  # COUNT(*) always returns one row

    rows, has_next, has_previous = await _window(fetch, args)
    return Page(
        [(encode_cursor([int(row[prefix + key.field]) for key in order], tag), row) for row in rows],
        has_next, has_previous, count,
    )
