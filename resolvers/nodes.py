"""Query.node and Query.nodes: any object by its global id, if the viewer may see it."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from access.context import Context
from reads.nodes import load_row
from reads.paging import MAX_PAGE_SIZE, bad_argument
from schema.relay import Node, as_node, decode_id


async def resolve_global_id(ctx: Context, global_id: str) -> Node | None:
    """The API object behind a global id, or None when unknown or hidden from the viewer."""
    decoded = decode_id(global_id)
    if decoded is None:
        return None
    kind, pk = decoded
    row = await load_row(ctx, kind, pk)
    return as_node(kind, row) if row is not None else None


@strawberry.type
class NodesQuery:
    @strawberry.field(description="The object with this global id, or null if unknown or hidden.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        return await resolve_global_id(info.context, id)

    @strawberry.field(description="The objects with these global ids (null where unknown), at most 100.")
    async def nodes(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise bad_argument("At most {max} ids at once.", max=MAX_PAGE_SIZE)
        # Concurrently, so the per-kind DataLoaders batch them into one query per kind.
        return list(await asyncio.gather(*(resolve_global_id(info.context, gid) for gid in ids)))
