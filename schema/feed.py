"""The territory's feed (read side): FeedItem union, pages of feed entries, edges.

The feed is its own table (models.feed.FeedEntry), newest first by entry id, so a
cursor is an entry id: stable while items are published, and the same cursor the
live `feed` subscription hands out, so a client can resume from either.
A page resolves its subjects with one query per kind, whatever its size.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

import strawberry
from strawberry.types import Info

from access.context import Context
from models import consultations as mc
from models import ideas as mi
from models import news as mn
from models import polls as mp
from models import projects as mpr
from models import questions as mq
from models.feed import FeedEntry
from reads.nodes import sees
from reads.paging import NEWEST_FIRST, encode_cursor
from reads.shared import AudienceReader, SharedPart
from schema.consultations.types import Consultation
from schema.ideas import Idea
from schema.news import NewsPost
from schema.polls import Poll
from schema.projects import Project
from schema.questions import Reply
from schema.relay import Connection, Edge, PageInfo, paginate
from sharing.parts import Audience, Part

FeedItem = Annotated[
    Union[NewsPost, Poll, Reply, Idea, Project, Consultation],  # noqa: UP007 (strawberry.union needs Union here)
    strawberry.union(
        "FeedItem",
        description=(
            "What a territory's feed shows: a news post, a new poll, an official reply, "
            "a new project, an idea that was realized, or a consultation that was published or "
            "entered a new phase."
        ),
    ),
]

# Feed kind -> (model, API type).
FEED_KINDS: dict[str, tuple[Any, Any]] = {
    "NewsPost": (mn.NewsPost, NewsPost),
    "Poll": (mp.Poll, Poll),
    "Reply": (mq.Reply, Reply),
    "Idea": (mi.Idea, Idea),
    "Project": (mpr.Project, Project),
    "Consultation": (mc.Consultation, Consultation),
}


def feed_cursor(entry: FeedEntry) -> str:
    """The cursor of a feed entry (the same as Territory.feed's)."""
    return encode_cursor([entry.id])


def feed_edge(entry: FeedEntry, node: Any) -> Edge[Any]:
    """The edge of a feed entry whose subject is already resolved (for subscriptions)."""
    return Edge(cursor=feed_cursor(entry), node=node)


async def resolve_feed_entries(
    info_or_loaders: Any, entries: Sequence[FeedEntry]
) -> list[tuple[FeedEntry, Any]]:
    """(entry, API object) for each entry whose subject still exists and everyone may see
    (the feed is the same for all: hidden items leave it for staff too), in the entries'
    order; one query per kind (plus one for replies' questions).

    Takes an Info, a Context or a Loaders object, so subscriptions can use it per event.
    """
    public = AudienceReader(Audience.PUBLIC, None, _loaders(info_or_loaders))
    wanted: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.subject_type in FEED_KINDS:
            wanted[entry.subject_type].append(entry.subject_id)
    rows: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model, _ = FEED_KINDS[kind]
        for row in await public.loaders.by_id(model).load_many(ids):
            if row is not None:
                rows[(kind, row.id)] = row
    # Parents (a reply's question) load in one batch per kind: all asked before any awaited.
    seen = await asyncio.gather(*(sees(public, kind, row) for (kind, _), row in rows.items()))
    shown = {key for key, ok in zip(rows, seen, strict=True) if ok}
    resolved: list[tuple[FeedEntry, Any]] = []
    for entry in entries:
        key = (entry.subject_type, entry.subject_id)
        if key not in shown:
            continue
        _, api_type = FEED_KINDS[entry.subject_type]
        resolved.append((entry, api_type.from_model(rows[key])))
    return resolved


def _loaders(source: Any) -> Any:
    if hasattr(source, "context"):
        source = source.context
    if hasattr(source, "loaders"):
        source = source.loaders
    return source


@dataclass(frozen=True)
class FeedPage:
    """The arguments of a page of a territory's feed (part of its shared part's key)."""

    territory: int
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


async def feed_page(
    info: Info[Context, None],
    territory_pk: int,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> FeedItemConnection:
    """One page of the territory's feed, newest first. Entries whose subject was hidden
    or removed are left out, so a page may hold fewer items than asked. The feed is the same
    for everyone: one shared part for every reader (sharing/parts.py)."""
    return await info.context.shared(FEED_PAGE, None, FeedPage(territory_pk, first, after, last, before))


async def build_feed_page(reader: AudienceReader, args: FeedPage) -> FeedItemConnection:
    entries = await paginate(
        FeedEntry.filter(territory_id=args.territory, hidden=False),
        lambda row: row,
        first=args.first,
        after=args.after,
        last=args.last,
        before=args.before,
        order=NEWEST_FIRST,
    )
    resolved = await resolve_feed_entries(reader.loaders, [edge.node for edge in entries.edges])
    edges = [feed_edge(entry, node) for entry, node in resolved]
    # The page info keeps the entries' cursors, so a page whose last entry was skipped
    # still resumes after it (nothing repeated, nothing skipped).
    return FeedItemConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=entries.page_info.has_next_page,
            has_previous_page=entries.page_info.has_previous_page,
            start_cursor=entries.page_info.start_cursor,
            end_cursor=entries.page_info.end_cursor,
        ),
        count=entries.count,
    )


# Territory.feed refers to this class lazily: a lazy reference to the Annotated union
# inside a generic (`Connection[Annotated[FeedItem, strawberry.lazy(...)]]`) would make
# strawberry name the type "AnnotatedConnection" instead of the contract's name.
@strawberry.type(name="FeedItemConnection", description="A page of a territory's feed, newest first.")
class FeedItemConnection(Connection[FeedItem]):
    pass


# The feed's edge type (named FeedItemEdge), also what the live `feed` subscription yields.
FeedItemEdge = Edge[FeedItem]

FEED_PAGE: SharedPart[FeedPage, FeedItemConnection] = Part("feed", build_feed_page)
