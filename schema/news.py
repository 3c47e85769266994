"""News posts officials publish to their territory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from models import accounts as ma
from models import news as mn
from models.projects import Project as ProjectRow
from models.territories import Territory as TerritoryRow
from schema.accounts import Official, member_from_model
from schema.comments import Commentable
from schema.errors import UserError
from schema.relay import encode_id
from schema.scalars import DateTime

if TYPE_CHECKING:
    from schema.projects import Project
    from schema.territories import Territory

# What an admin who publishes without a mandate is shown as (NewsPost.author is an Official).
ADMINISTRATION_TITLE = "Territory administration"


def official_from_model(row: ma.Member) -> Official:
    """A member shown as the official who published: admins publish too, and an official
    later demoted keeps authorship of what they published under their mandate."""
    member = member_from_model(row)
    if isinstance(member, Official):
        return member
    return Official(
        id=member.id,
        display_name=member.display_name,
        role=member.role,
        verified=member.verified,
        joined_at=member.joined_at,
        territory_pk=member.territory_pk,
        pk=member.pk,
        title=row.title or ADMINISTRATION_TITLE,
    )


@strawberry.type(description="A news post an official published to the territory's feed.")
class NewsPost(Commentable):
    id: strawberry.ID = strawberry.field(description="The news post's global id.")
    title: str = strawberry.field(description="The headline.")
    body: str = strawberry.field(description="The text of the post.")
    published_at: DateTime = strawberry.field(description="When the post was published.")
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    author_pk: strawberry.Private[int]
    project_pk: strawberry.Private[int | None]
    hidden: strawberry.Private[bool]

    @classmethod
    def from_model(cls, row: mn.NewsPost) -> NewsPost:
        return cls(
            id=strawberry.ID(encode_id("NewsPost", row.id)),
            title=row.title,
            body=row.body,
            published_at=row.published_at,
            pk=row.id,
            territory_pk=row.territory_id,
            author_pk=row.author_id,
            project_pk=row.project_id,
            hidden=row.hidden,
        )

    @strawberry.field(description="The official (or admin) who published the post.")
    async def author(self, info: Info) -> Official:
        return official_from_model(await info.context.loaders.member.load(self.author_pk))

    @strawberry.field(description="The territory the post was published to.")
    async def territory(
        self, info: Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories")]:
        from schema.territories import Territory

        return Territory.from_model(await info.context.loaders.by_id(TerritoryRow).load(self.territory_pk))

    @strawberry.field(description="The project the post is about, if any (null when hidden from the viewer).")
    async def project(
        self, info: Info
    ) -> Annotated[Project, strawberry.lazy("schema.projects")] | None:
        from schema.projects import Project

        if self.project_pk is None:
            return None
        row = await info.context.loaders.by_id(ProjectRow).load(self.project_pk)
        if not await info.context.can_see(row):
            return None
        return Project.from_model(row)


@strawberry.input(description="A news post to publish (officials and admins).")
class PublishNewsInput:
    territory_id: strawberry.ID = strawberry.field(description="The territory to publish to.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="The project of the same territory the post is about, if any."
    )
    title: str = strawberry.field(description="The headline, 1 to 200 characters.")
    body: str = strawberry.field(description="The text, 1 to 20,000 characters.")


@strawberry.type(description="The result of publishNews.")
class NewsPostPayload:
    news_post: NewsPost | None = strawberry.field(description="The published post; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the post was refused.")
