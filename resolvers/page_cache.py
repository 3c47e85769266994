"""Shared pages: the viewer-independent part of a hot list, computed once per data stamp.

The anonymous response cache (ADR 0006) serves whole answers to anonymous readers. A signed-in
reader's home page mixes the same public lists with a few personal fields (whether they
voted, whether they support an idea). This cache keeps the public part of a page of a list
(the rows, their authors, tallies and replies, built into API objects) under the same rules
as the response cache (docs/adr/0007):

- an entry is keyed by the list, the territory, the page arguments and whether the viewer is
  staff of the territory (staff see hidden content; nothing else about the viewer enters);
- it is served only while the data stamp it was built under holds (any committed write in
  this process, or a "changed" event from another one, moves it), before the earliest time
  boundary it noted (a poll opening or closing, a question turning overdue), and for at most
  the response cache's max age;
- it is neither used nor filled inside a transaction (a page read there could hold writes
  that are rolled back), nor while the response cache is not hearing other processes.

A hit hands out shallow copies of the cached items, so that the personal fields set on them
afterwards (prepare_polls, prepare_ideas) stay with the request that set them.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.backends.base.client import TransactionalDBClient

from resolvers import sql
from schema.horizon import CURRENT, Horizon, note_boundary
from schema.relay import Connection, Edge

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    value: Any
    stamp: tuple[int, int]
    expires: float
    boundary: float | None


class PageCache:
    """One per response cache (one per app)."""

    def __init__(self, responses: Any, *, max_entries: int = 512) -> None:
        self.responses = responses
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._entries.clear()

    async def value(self, key: Hashable, build: Callable[[], Awaitable[T]],
                    hand_out: Callable[[T], T] = lambda value: value) -> T:
        """The viewer-independent value under `key`: from the cache, or built by `build()`
        (and stored when it may be). `hand_out` gives each request its own copy where it may
        change what it receives."""
        responses = self.responses
        if not responses.ready:
            responses.start()  # listen for other processes' writes; cache from then on
            return await build()
        if isinstance(sql.client(), TransactionalDBClient):
            return await build()
        stamp = responses.stamp()
        entry = self._entries.get(key)
        now = time.time()
        if entry is not None:
            if entry.stamp == stamp and now < entry.expires:
                self._entries.move_to_end(key)
                self.hits += 1
                if entry.boundary is not None:
                    note_boundary(dt.datetime.fromtimestamp(entry.boundary, dt.UTC))
                return hand_out(entry.value)  # type: ignore[no-any-return]
            del self._entries[key]
        self.misses += 1
        horizon = Horizon()
        token = CURRENT.set(horizon)
        try:
            value = await build()
        finally:
            CURRENT.reset(token)
        if horizon.until is not None:
            # An answer being cached around this value depends on the same boundaries.
            note_boundary(dt.datetime.fromtimestamp(horizon.until, dt.UTC))
        if responses.ready and responses.stamp() == stamp:
            expires = now + responses.max_age
            if horizon.until is not None:
                expires = min(expires, horizon.until)
            if time.time() < expires:
                self._entries[key] = _Entry(value, stamp, expires, horizon.until)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return hand_out(value)


def _copy(page: Connection[T]) -> Connection[T]:
    return Connection(
        edges=[Edge(cursor=edge.cursor, node=copy.copy(edge.node)) for edge in page.edges],
        page_info=page.page_info,
        count=page.count,
    )


async def shared_value(ctx: Any, key: Hashable, build: Callable[[], Awaitable[T]],
                       hand_out: Callable[[T], T] = lambda value: value) -> T:
    """`build()`'s value through the app's page cache when the request has one."""
    pages: PageCache | None = getattr(ctx, "pages", None)
    if pages is None:
        return await build()
    return await pages.value(key, build, hand_out)


async def shared_page(ctx: Any, key: Hashable, build: Callable[[], Awaitable[Connection[T]]]) -> Connection[T]:
    """A page of a list through the app's page cache: a connection of its own for this
    request either way (its items are copies, for the personal fields set on them)."""
    return await shared_value(ctx, key, build, _copy)
