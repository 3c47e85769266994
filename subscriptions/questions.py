"""officialReplies: each official reply of a territory, as it is published.

The territory's hub reads a new reply once for all its subscribers (ReplyNews); whether a
subscriber may see it (a hidden reply, or one to a hidden question) is checked per subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.envelopes import Event
from models.accounts import Member as MemberRow
from models.questions import Reply as ReplyRow
from reads.nodes import sees
from reads.shared import AudienceReader
from schema.questions import Reply
from schema.relay import decode_id_of
from sharing.parts import Audience
from subscriptions.hubs import territory_hub
from subscriptions.streams import check_territory


@dataclass(frozen=True)
class ReplyNews:
    """A new official reply, read once; `hidden` when it or its question is hidden."""

    reply: Reply
    official_id: int
    territory_id: int
    hidden: bool


async def read_reply_news(event: Event) -> ReplyNews | None:
    row = await ReplyRow.filter(id=int(event.data["reply"])).first()
    if row is None:
        return None
    # Read once for every subscriber: hidden from the public by the one rule (the reply, or
    # its question), then shown only to the territory's staff, subscriber by subscriber.
    hidden = not await sees(AudienceReader(Audience.PUBLIC, None), "Reply", row)
    return ReplyNews(reply=Reply.from_model(row), official_id=row.official_id,
                     territory_id=row.territory_id, hidden=hidden)


@strawberry.type
class QuestionsSubscription:
    @strawberry.subscription(
        description=(
            "Each official reply published in the territory (or only those of one official, "
            "with officialId) as it is published."
        )
    )
    async def official_replies(
        self, info: Info[Context, None], territory_id: strawberry.ID, official_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Reply, None]:
        ctx = info.context
        ctx.fresh_loaders()
        territory_pk = await check_territory(territory_id)
        official_pk: int | None = None
        if official_id is not None:
            official_pk = decode_id_of(official_id, "Member")
            if official_pk is None or not await MemberRow.filter(id=official_pk, territory_id=territory_pk).exists():
                raise not_found("No such official in this territory.")
        async with territory_hub(ctx.broker, territory_pk).join("reply", read_reply_news) as subscriber:
            while (news := await subscriber.queue.get()) is not None:
                if not isinstance(news, ReplyNews):
                    continue
                if official_pk is not None and news.official_id != official_pk:
                    continue
                ctx.fresh_loaders()
                if news.hidden and not await ctx.is_staff(news.territory_id):
                    continue
                yield news.reply
