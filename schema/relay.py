"""Relay building blocks: global ids, the Node interface and its registry, connections.

Global ids are opaque (base64 of "Kind:pk"); a member keeps the kind "Member" whatever its
role, so its id does not change when a citizen is appointed official. A connection is a
page of reads.paging (keyset pages) with its items mapped to API objects.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from tortoise.queryset import QuerySet

from reads.paging import (
    MAX_KEY,
    NEWEST_FIRST,
    Page,
    PageArgs,
    SortKey,
    SqlList,
    page_of,
    page_of_sql,
)

T = TypeVar("T")
R = TypeVar("R")


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
    if not kind or value <= 0 or value > MAX_KEY:
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


# Kind ("Poll") -> the API object of a row of that kind. Each type module registers its own
# kinds, so node(id), Report.subject and Notification.subject reach every type without one
# module importing them all.
_NODE_TYPES: dict[str, Callable[[Any], Node]] = {}


def register_node(kind: str, from_row: Callable[[Any], Node]) -> None:
    _NODE_TYPES[kind] = from_row


def as_node(kind: str, row: Any) -> Node:
    """The API object of a row of `kind` (a kind registered by its type module)."""
    return _NODE_TYPES[kind](row)


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


def connection(page: Page[R], mapper: Callable[[R], T]) -> Connection[T]:
    """The Relay connection of a page, its items mapped to API objects."""
    edges = [Edge(cursor=cursor, node=mapper(item)) for cursor, item in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=page.count,
    )


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
    """One page of `queryset` in `order`, as a connection; totalCount on demand."""
    return connection(await page_of(queryset, PageArgs(first, after, last, before), order), mapper)


async def paginate_sql(
    source: SqlList,
    mapper: Callable[[Any], T],
    args: PageArgs,
    *,
    order: Sequence[SortKey] = NEWEST_FIRST,
    prefix: str = "",
    tag: str | None = None,
) -> Connection[T]:
    """paginate() for a list in fixed SQL (reads.lists): one statement per page; `tag` names
    the order in the cursors of a list that has several."""
    return connection(await page_of_sql(source, args, order, prefix, tag), mapper)


def with_nodes(page: Connection[T], nodes: list[T]) -> Connection[T]:
    """A copy of a connection whose edges carry `nodes` (the viewer's copies of a shared
    page's items), with the same cursors, page info and count."""
    return Connection(
        edges=[Edge(cursor=edge.cursor, node=node) for edge, node in zip(page.edges, nodes, strict=True)],
        page_info=page.page_info,
        count=page.count,
    )
