"""News posts officials publish to their territory."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from access.context import Context
from models import news as mn
from schema.accounts import Official, official_from_model
from schema.comments import Commentable
from schema.errors import UserError
from schema.placement import AboutProject, InTerritory
from schema.relay import encode_id, register_node

if TYPE_CHECKING:
    pass

# What an admin who publishes without a mandate is shown as (NewsPost.author is an Official).
ADMINISTRATION_TITLE = "Territory administration"


@strawberry.type(description="A news post an official published to the territory's feed.")
class NewsPost(Commentable, InTerritory, AboutProject):
    id: strawberry.ID = strawberry.field(description="The news post's global id.")
    title: str = strawberry.field(description="The headline.")
    body: str = strawberry.field(description="The text of the post.")
    published_at: dt.datetime = strawberry.field(description="When the post was published.")
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
    async def author(self, info: Info[Context, None]) -> Official:
        return official_from_model(
            await info.context.loaders.member_of(self.author_pk), ADMINISTRATION_TITLE
        )

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


register_node("NewsPost", NewsPost.from_model)
