"""Writes to the territory's feed (reads are schema/feed.py)."""

from __future__ import annotations

from access.context import Context
from events.envelopes import Event, territory_channel
from models.feed import FeedEntry


async def do_add_to_feed(ctx: Context, territory_id: int, kind: str, subject_id: int) -> FeedEntry:
    """Publish an item to the feed: kind is "NewsPost", "Poll", "Reply", "Project" or "Idea"."""
    entry = await FeedEntry.create(territory_id=territory_id, subject_type=kind, subject_id=subject_id)
    notify_feed(ctx, entry)
    return entry


def notify_feed(ctx: Context, entry: FeedEntry) -> None:
    ctx.queue(
        Event(
            channel=territory_channel(entry.territory_id),
            type="feed",
            data={"entry": entry.id, "kind": entry.subject_type, "id": entry.subject_id},
        )
    )


async def do_set_feed_hidden(kind: str, subject_id: int, hidden: bool) -> None:
    """Moderation hides or restores an item: its feed entry follows."""
    await FeedEntry.filter(subject_type=kind, subject_id=subject_id).update(hidden=hidden)
