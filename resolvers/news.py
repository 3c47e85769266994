"""News: officials and admins publish posts to their territory's feed."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from access.context import Context
from models.accounts import Role
from models.news import NewsPost as NewsPostRow
from models.territories import Territory as TerritoryRow
from reads.nodes import load_row
from resolvers.feed import do_add_to_feed
from resolvers.mutations import mutate
from resolvers.validation import Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.news import NewsPost, NewsPostPayload, PublishNewsInput
from schema.relay import decode_id_of


async def check_project(ctx: Context, territory_id: int, global_id: str | None) -> int | None:
    """The pk of the project a post is about: of the same territory and visible, else NOT_FOUND."""
    if global_id is None:
        return None
    pk = decode_id_of(global_id, "Project")
    project = await load_row(ctx, "Project", pk) if pk is not None else None
    if project is None or project.territory_id != territory_id:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such project in this territory.", "projectId")
    return pk


def news_payload(row: NewsPostRow | None, errors: list[UserError]) -> NewsPostPayload:
    return NewsPostPayload(news_post=NewsPost.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class NewsMutation:
    @strawberry.mutation(
        description=(
            "Publish a news post to the territory's feed (its officials and admins), "
            "optionally about one of its projects."
        )
    )
    async def publish_news(self, info: Info[Context, None], input: PublishNewsInput) -> NewsPostPayload:
        ctx = info.context

        async def work() -> NewsPostRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            territory = await TerritoryRow.filter(id=territory_id).first() if territory_id else None
            if territory is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            author = await ctx.check_role(territory.id, Role.OFFICIAL, Role.ADMIN)
            checks = Checks()
            title = checks.title(input.title, "title")
            body = checks.body(input.body, "body")
            checks.done()
            project_id = await check_project(ctx, territory.id, input.project_id)
            row = await NewsPostRow.create(
                territory_id=territory.id,
                author_id=author.id,
                project_id=project_id,
                title=title,
                body=body,
            )
            await do_add_to_feed(ctx, territory.id, "NewsPost", row.id)
            return row

        return await mutate(ctx, work, news_payload)
