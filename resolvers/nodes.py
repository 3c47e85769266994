"""Global id resolution: one registry of every Node kind, its model and its API type.

`load_node` applies visibility (hidden content resolves only for the territory's
moderators and admins, as NOT_FOUND would), so node(id), nodes(ids), Report.subject
and Notification.subject all share one rule.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from schema.relay import MAX_PAGE_SIZE, Node, bad_argument, decode_id


@dataclass(frozen=True)
class NodeKind:
    model: str  # "module:Class" under models/
    mapper: str  # "module:callable" under schema/, taking a loaded row
    related: tuple[str, ...] = ()
    # Account-scoped kinds resolve only for their owner.
    owner_field: str | None = None

    def load_model(self) -> Any:
        return _model(self.model)


KINDS: dict[str, NodeKind] = {
    "Territory": NodeKind("models.territories:Territory", "schema.territories:Territory.from_model"),
    "Member": NodeKind("models.accounts:Member", "schema.accounts:member_from_model", ("account",)),
    "Question": NodeKind("models.questions:Question", "schema.questions:Question.from_model"),
    "Reply": NodeKind("models.questions:Reply", "schema.questions:Reply.from_model"),
    "Idea": NodeKind("models.ideas:Idea", "schema.ideas:Idea.from_model"),
    "Project": NodeKind("models.projects:Project", "schema.projects:Project.from_model"),
    "Document": NodeKind("models.projects:Document", "schema.projects:Document.from_model"),
    "Poll": NodeKind("models.polls:Poll", "schema.polls:Poll.from_model"),
    "NewsPost": NodeKind("models.news:NewsPost", "schema.news:NewsPost.from_model"),
    "Comment": NodeKind("models.comments:Comment", "schema.comments:Comment.from_model"),
    "Report": NodeKind("models.moderation:Report", "schema.moderation:Report.from_model"),
    "Notification": NodeKind(
        "models.notifications:Notification",
        "schema.notifications:Notification.from_model",
        owner_field="account_id",
    ),
}


def _resolve_mapper(kind: NodeKind) -> Callable[[Any], Any]:
    module, name = kind.mapper.split(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


async def load_row(ctx: Any, kind_name: str, pk: int) -> Any | None:
    """The row behind (kind, pk) if the viewer may see it, else None."""
    kind = KINDS.get(kind_name)
    if kind is None:
        return None
    model = kind.load_model()
    if kind.related:
        row = await model.filter(id=pk).select_related(*kind.related).first()
    else:
        row = await ctx.loaders.by_id(model).load(pk)
    if row is None:
        return None
    if kind.owner_field is not None:
        account = ctx.account
        return row if account is not None and getattr(row, kind.owner_field) == account.id else None
    if kind_name == "Report":
        return row if await ctx.is_staff(row.territory_id) else None
    if kind_name in ("Document",):
        project = await ctx.loaders.by_id(_model("models.projects:Project")).load(row.project_id)
        return row if await ctx.can_see(project) else None
    if hasattr(row, "hidden") and not await ctx.can_see(row):
        return None
    return row


async def load_node(ctx: Any, kind_name: str, pk: int) -> Any | None:
    """The API object behind (kind, pk), or None when unknown or hidden from the viewer."""
    row = await load_row(ctx, kind_name, pk)
    if row is None:
        return None
    return _resolve_mapper(KINDS[kind_name])(row)


async def resolve_global_id(ctx: Any, global_id: str) -> Any | None:
    decoded = decode_id(global_id)
    if decoded is None:
        return None
    return await load_node(ctx, *decoded)


def _model(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@strawberry.type
class NodesQuery:
    @strawberry.field(description="The object with this global id, or null if unknown or hidden.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_global_id(info.context, id)  # type: ignore[no-any-return]

    @strawberry.field(description="The objects with these global ids (null where unknown), at most 100.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise bad_argument(f"At most {MAX_PAGE_SIZE} ids at once.")
        # Concurrently, so the per-kind DataLoaders batch them into one query per kind.
        return list(await asyncio.gather(*(resolve_global_id(info.context, gid) for gid in ids)))
