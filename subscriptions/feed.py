"""feed: each new item of a territory's feed, resumable from a cursor.

The stream listens first (through the territory's hub), then replays from the database what
came after the client's cursor, then goes live, skipping what it already sent: no gap, no
duplicate at the seam. The hub resolves each new item once for all subscribers (FeedNews).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from events.envelopes import Event, territory_channel
from models.feed import FeedEntry
from reads.loaders import Loaders
from schema.feed import FeedItemEdge, feed_edge, resolve_feed_entries
from schema.relay import Edge
from subscriptions.hubs import RESYNC_MARK, territory_hub
from subscriptions.streams import after_id, check_territory

REPLAY_BATCH = 100
# The ids already sent on a feed stream are remembered to skip duplicates at the seam
# (and when commits land out of id order); beyond this many, the oldest are forgotten.
SENT_MEMORY = 5000


@dataclass(frozen=True)
class FeedNews:
    """A new feed item, resolved once: its entry id and edge (None: its subject is
    hidden or gone)."""

    entry_id: int
    edge: Edge[Any] | None


async def read_feed_news(event: Event) -> FeedNews | None:
    entry = await FeedEntry.filter(id=int(event.data["entry"])).first()
    if entry is None or territory_channel(entry.territory_id) != event.channel:
        return None
    if entry.hidden:
        return FeedNews(entry_id=entry.id, edge=None)
    resolved = await resolve_feed_entries(Loaders(None), [entry])
    if not resolved:
        return FeedNews(entry_id=entry.id, edge=None)
    _, node = resolved[0]
    return FeedNews(entry_id=entry.id, edge=feed_edge(entry, node))


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


@strawberry.type
class FeedSubscription:
    @strawberry.subscription(
        description=(
            "Each new item of the territory's feed, as an edge. With `after` (a cursor from "
            "Territory.feed or from an earlier message) the items published since are replayed "
            "first, oldest first, then the live ones follow: nothing missed, nothing repeated."
        )
    )
    async def feed(
        self, info: Info[Context, None], territory_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[FeedItemEdge, None]:
        ctx = info.context
        ctx.fresh_loaders()
        territory_pk = await check_territory(territory_id)
        known = after_id(after)
        async with territory_hub(ctx.broker, territory_pk).join("feed", read_feed_news) as subscriber:
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
