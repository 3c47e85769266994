"""The live subscriptions: poll results, official replies, the feed, notifications.

Every generator holds its broker listener (or hub membership) in an `async with`, so a
subscription the client completes, or whose websocket closes, lets go at once. The
websocket's context lives for the whole connection: loaders are made fresh before each
event, and whether the viewer may see what is pushed is checked per event.

Resumable streams (feed, notifications) listen first, then read the database from the
client's cursor, then go live, skipping what was already sent: no gap, no duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from models.accounts import AccessToken
from models.accounts import Member as MemberRow
from models.feed import FeedEntry
from models.notifications import Notification as NotificationRow
from models.polls import Poll as PollRow
from models.territories import Territory as TerritoryRow
from resolvers.context import Context
from schema.errors import unauthenticated
from schema.feed import FeedItemEdge, feed_edge, resolve_feed_entries
from schema.notifications import Notification
from schema.polls import PollResults
from schema.questions import Reply
from schema.relay import Edge, decode_cursor, decode_id_of, encode_cursor
from subscriptions.events import account_channel
from subscriptions.hubs import RESYNC_MARK, FeedNews, ReplyNews, hubs_for

REPLAY_BATCH = 100
# The ids already sent on a feed stream are remembered to skip duplicates at the seam
# (and when commits land out of id order); beyond this many, the oldest are forgotten.
SENT_MEMORY = 5000

NotificationEdge = Edge[Notification]


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "NOT_FOUND"})


def after_id(after: str | None) -> int | None:
    """The entry id of a one-id cursor (feed, notifications); BAD_USER_INPUT if malformed."""
    if after is None:
        return None
    return decode_cursor(after, 1)[0]


async def check_territory(territory_id: str) -> int:
    pk = decode_id_of(territory_id, "Territory")
    if pk is None or not await TerritoryRow.filter(id=pk).exists():
        raise not_found("No such territory.")
    return pk


async def replay_feed(ctx: Context, territory_pk: int, after: int) -> AsyncGenerator[tuple[int, Any], None]:
    """(entry id, edge) of the visible feed items after entry `after`, oldest first."""
    while True:
        entries = list(
            await FeedEntry.filter(territory_id=territory_pk, hidden=False, id__gt=after)
            .order_by("id")
            .limit(REPLAY_BATCH)
        )
        if not entries:
            return
        ctx.fresh_loaders()
        for entry, node in await resolve_feed_entries(ctx.loaders, entries):
            yield entry.id, feed_edge(entry, node)
        after = entries[-1].id
        if len(entries) < REPLAY_BATCH:
            return


def remember(sent: set[int], entry_id: int) -> None:
    sent.add(entry_id)
    if len(sent) > SENT_MEMORY:
        for old in sorted(sent)[: SENT_MEMORY // 2]:
            sent.discard(old)


async def check_still_authenticated(ctx: Context) -> None:
    """Raise UNAUTHENTICATED (ending the stream) once the connection's token is revoked or
    expired, or its account erased."""
    token = ctx.token
    alive = token is not None and await AccessToken.filter(
        id=token.id,
        revoked_at__isnull=True,
        expires_at__gt=dt.datetime.now(dt.UTC),
        account__deleted_at__isnull=True,
    ).exists()
    if not alive:
        raise unauthenticated("The token of this connection was revoked or expired: authenticate again.")


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(
        description=(
            "A poll's results at once, then after every change (at most a few messages a second "
            "under a storm of votes, always ending with the latest state). The last message has "
            "final: true, once the poll is closed (by closePoll or by its closesAt); the stream "
            "then completes. While an AFTER_CLOSE poll is open, options is null."
        )
    )
    async def poll_results(
        self, info: Info, poll_id: strawberry.ID
    ) -> AsyncGenerator[PollResults, None]:
        ctx: Context = info.context
        ctx.fresh_loaders()
        pk = decode_id_of(poll_id, "Poll")
        row = await PollRow.filter(id=pk).first() if pk is not None else None
        if row is None or not await ctx.can_see(row):
            raise not_found("No such poll.")
        async with hubs_for(ctx.broker).poll(row.id).join() as slot:
            while (snapshot := await slot.get()) is not None:
                ctx.fresh_loaders()
                if await ctx.can_see(snapshot.row):
                    yield snapshot.results
                if snapshot.final:
                    return

    @strawberry.subscription(
        description=(
            "Each official reply published in the territory (or only those of one official, "
            "with officialId) as it is published."
        )
    )
    async def official_replies(
        self, info: Info, territory_id: strawberry.ID, official_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Reply, None]:
        ctx: Context = info.context
        ctx.fresh_loaders()
        territory_pk = await check_territory(territory_id)
        official_pk: int | None = None
        if official_id is not None:
            official_pk = decode_id_of(official_id, "Member")
            if official_pk is None or not await MemberRow.filter(
                id=official_pk, territory_id=territory_pk
            ).exists():
                raise not_found("No such official in this territory.")
        async with hubs_for(ctx.broker).territory(territory_pk).join("reply") as subscriber:
            while (news := await subscriber.queue.get()) is not None:
                if not isinstance(news, ReplyNews):
                    continue
                if official_pk is not None and news.official_id != official_pk:
                    continue
                ctx.fresh_loaders()
                if news.hidden and not await ctx.is_staff(news.territory_id):
                    continue
                yield news.reply

    @strawberry.subscription(
        description=(
            "Each new item of the territory's feed, as an edge. With `after` (a cursor from "
            "Territory.feed or from an earlier message) the items published since are replayed "
            "first, oldest first, then the live ones follow: nothing missed, nothing repeated."
        )
    )
    async def feed(
        self, info: Info, territory_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[FeedItemEdge, None]:  # type: ignore[valid-type]
        ctx: Context = info.context
        ctx.fresh_loaders()
        territory_pk = await check_territory(territory_id)
        known = after_id(after)
        async with hubs_for(ctx.broker).territory(territory_pk).join("feed") as subscriber:
            # The hub listens now: read the database only from here on.
            if known is not None:
                resume_from = known
            else:
                newest = await FeedEntry.filter(territory_id=territory_pk).order_by("-id").first()
                resume_from = newest.id if newest is not None else 0
            sent: set[int] = set()
            replay = known is not None
            while True:
                if replay or subscriber.overflowed:
                    replay = subscriber.overflowed = False
                    start = max(sent) if sent else resume_from
                    async for entry_id, edge in replay_feed(ctx, territory_pk, start):
                        if entry_id not in sent:
                            remember(sent, entry_id)
                            yield edge
                    continue
                news = await subscriber.queue.get()
                if news is None:
                    return
                if news == RESYNC_MARK:
                    replay = True
                    continue
                if not isinstance(news, FeedNews) or news.entry_id in sent:
                    continue
                if known is not None and news.entry_id <= known:
                    continue  # the client had it already
                remember(sent, news.entry_id)
                if news.edge is not None:
                    yield news.edge

    @strawberry.subscription(
        description=(
            "The viewer's own notifications as they arrive, as edges; needs authentication. "
            "With `after` (a cursor from Viewer.notifications or an earlier message) those since "
            "are replayed first, oldest first."
        )
    )
    async def notifications(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[NotificationEdge, None]:  # type: ignore[valid-type]
        ctx: Context = info.context
        ctx.fresh_loaders()
        account = ctx.require_account()
        known = after_id(after)
        # Few subscribers share an account's channel (its owner's devices): each reads
        # its own rows, which also catches bulk inserts whose events carry no id.
        async with ctx.broker.listen(account_channel(account.id)) as queue:
            if known is not None:
                last = known
            else:
                newest = await NotificationRow.filter(account_id=account.id).order_by("-id").first()
                last = newest.id if newest is not None else 0
            while True:
                rows = list(
                    await NotificationRow.filter(account_id=account.id, id__gt=last)
                    .order_by("id")
                    .limit(REPLAY_BATCH)
                )
                for row in rows:
                    last = row.id
                    yield Edge(cursor=encode_cursor([row.id]), node=Notification.from_model(row))
                if len(rows) == REPLAY_BATCH:
                    continue
                await queue.get()
                while not queue.empty():
                    queue.get_nowait()
                # A viewer who logged out (or was erased) since connecting stops receiving.
                await check_still_authenticated(ctx)
