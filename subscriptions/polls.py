"""pollResults: a poll's tally, live. One hub per watched poll reads it once per tick.

A poll watched by 10,000 phones costs one tally read per coalesced tick, not 10,000 per
vote; each subscriber's right to see the poll is checked per snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.envelopes import poll_channel
from models.clock import as_utc, now
from models.polls import Poll as PollRow
from reads.loaders import Loaders
from schema.polls import Poll, PollResults, poll_results
from schema.relay import decode_id_of
from subscriptions.hubs import Hubs, TickedHub, hubs_for, seconds_until_window_change

log = logging.getLogger("parvis.live")

@dataclass(frozen=True)
class PollSnapshot:
    """A poll's state at one tick, the same object for every subscriber."""

    row: PollRow
    results: PollResults

    @property
    def final(self) -> bool:
        return self.results.final

    @property
    def key(self) -> tuple[Any, ...]:
        """What subscribers can tell apart: counts, status, visibility."""
        options = self.results.options
        votes = None if options is None else tuple(o.votes for o in options)
        return (self.results.total_votes, votes, self.results.poll.status, self.row.hidden)


class PollHub(TickedHub[PollSnapshot]):
    """One task per watched poll: reads the tally once per coalesced tick, fans it out."""

    def __init__(self, hubs: Hubs, poll_id: int) -> None:
        super().__init__(hubs, ("poll", poll_id), poll_channel(poll_id))
        self.poll_id = poll_id

    async def _read(self) -> PollSnapshot | None:
        row = await PollRow.filter(id=self.poll_id).first()
        if row is None:
            return None
        return PollSnapshot(row=row, results=await poll_results(Loaders(None), Poll.from_model(row)))

    def _until_change(self, snapshot: PollSnapshot) -> float | None:
        """Until the poll opens or closes by the clock."""
        return seconds_until_window_change(as_utc(snapshot.row.opens_at), as_utc(snapshot.row.closes_at), now())


def poll_hub(hubs: Hubs, poll_id: int) -> PollHub:
    return hubs.get(("poll", poll_id), lambda hubs: PollHub(hubs, poll_id))


@strawberry.type
class PollsSubscription:
    @strawberry.subscription(
        description=(
            "A poll's results at once, then after every change (at most a few messages a second "
            "under a storm of votes, always ending with the latest state). The last message has "
            "final: true, once the poll is closed (by closePoll or by its closesAt); the stream "
            "then completes. While an AFTER_CLOSE poll is open, options is null."
        )
    )
    async def poll_results(
        self, info: Info[Context, None], poll_id: strawberry.ID
    ) -> AsyncGenerator[PollResults, None]:
        ctx = info.context
        ctx.fresh_loaders()
        pk = decode_id_of(poll_id, "Poll")
        row = await PollRow.filter(id=pk).first() if pk is not None else None
        if row is None or not await ctx.can_see(row):
            raise not_found("No such poll.")
        async with poll_hub(hubs_for(ctx.broker), row.id).join() as slot:
            while (snapshot := await slot.get()) is not None:
                ctx.fresh_loaders()
                if await ctx.can_see(snapshot.row):
                    yield snapshot.results
                if snapshot.final:
                    return

