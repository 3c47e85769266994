"""Where content sits: its territory and, for some kinds, the project it is about.

Mixed into the content types so each relation is resolved one way, through the loaders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.types import Info

from access.context import Context
from models.projects import Project as ProjectRow
from models.references import content_path
from models.territories import Territory as TerritoryRow
from reads.nodes import sees
from schema.accounts import Member, member_from_model
from schema.relay import as_node

if TYPE_CHECKING:
    from schema.projects import Project
    from schema.territories import Territory


@strawberry.type(description="Content that belongs to a territory.")
class InTerritory:
    territory_pk: strawberry.Private[int]

    @strawberry.field(description="The territory it belongs to.")
    async def territory(
        self, info: Info[Context, None]
    ) -> Annotated[Territory, strawberry.lazy("schema.territories")]:
        row = await info.context.loaders.by_id(TerritoryRow).load(self.territory_pk)
        return cast("Territory", as_node("Territory", row))


async def content_url(info: Info[Context, None], territory_pk: int, kind: str, reference: str) -> str:
    """The canonical path of a question or an idea (models/references.py `content_path`)."""
    row = await info.context.loaders.by_id(TerritoryRow).load(territory_pk)
    return content_path(row.slug if row is not None else "-", kind, reference)


@strawberry.type(description="Content that may be about one of the territory's projects.")
class AboutProject:
    project_pk: strawberry.Private[int | None]

    @strawberry.field(description="The project it is about; null when none (or hidden from the viewer).")
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated[Project, strawberry.lazy("schema.projects")] | None:
        if self.project_pk is None:
            return None
        row = await info.context.loaders.by_id(ProjectRow).load(self.project_pk)
        if not await info.context.can_see(row):
            return None
        return cast("Project", as_node("Project", row))


@strawberry.type(description="Content a member wrote.")
class WrittenByMember:
    author_pk: strawberry.Private[int]
    # Set by a connection that loaded the authors of its page at once: a plain value, so
    # this hot field costs no coroutine per item. None: resolve through the loader.
    ready_author: strawberry.Private[Member | None] = None

    # A sync resolver: a ready value costs no coroutine; otherwise it hands graphql-core an
    # awaitable, which it awaits as it would an async resolver's.
    @strawberry.field(description='The member who wrote it ("Former member" once they erased their account).')
    def author(self, info: Info[Context, None]) -> Member:
        if self.ready_author is not None:
            return self.ready_author
        return self._load_author(info)  # type: ignore[return-value]

    async def _load_author(self, info: Info[Context, None]) -> Member:
        return member_from_model(await info.context.loaders.member_of(self.author_pk))


async def outcomes_answering(ctx: Context, kind: str, pk: int) -> list[Any]:
    """The outcomes of consultation phases answering a contribution (`kind`, `pk`), those of
    consultations the viewer may see, oldest first: what became of it."""
    rows = await ctx.loaders.outcomes_of_subject.load((kind, pk))
    return [as_node("Outcome", row) for row in rows if await sees(ctx, "Outcome", row)]


OUTCOMES_DESCRIPTION = "Outcomes of consultation phases that answer it (what became of it), oldest first."
