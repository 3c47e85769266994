"""pollResults: a poll's tally, live. One hub per watched poll reads it once per tick.

A poll watched by 10,000 phones costs one tally read per coalesced tick, not 10,000 per
vote; each subscriber's right to see the poll is checked per snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.envelopes import Event, poll_channel
from models.clock import as_utc, now
from models.polls import Poll as PollRow
from reads.loaders import Loaders
from schema.polls import Poll, PollResults, poll_results
from schema.relay import decode_id_of
from subscriptions.hubs import Hubs, LatestHub, hubs_for

log = logging.getLogger("parvis.live")

# A poll's results go out at most once per POLL_TICK seconds, with the latest state.
POLL_TICK = 0.25
# When a poll opens or closes by the clock, push a little after the instant (so the
# status computed then is already the new one).
CLOCK_SLACK = 0.05
RETRY_AFTER = 1.0


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


class PollHub(LatestHub[PollSnapshot]):
    """One task per watched poll: reads the tally once per coalesced tick, fans it out."""

    def __init__(self, hubs: Hubs, poll_id: int) -> None:
        super().__init__(hubs, ("poll", poll_id))
        self.poll_id = poll_id
        self.ticks = 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Listen before the first read: a vote committed in between is not missed.
            async with self.hubs.broker.listen(poll_channel(self.poll_id)) as queue:
                while True:
                    snapshot = await self._compute()
                    last = loop.time()
                    if snapshot is None:
                        break  # the poll is gone
                    # An event can arrive after a read that already saw its vote: the
                    # same state is not sent twice.
                    if self.latest is None or snapshot.key != self.latest.key:
                        self.ticks += 1
                        self._publish(snapshot)
                    if snapshot.final:
                        break
                    # (asyncio.timeout: wait_for may swallow the hub's cancellation on 3.11)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(_until_status_change(snapshot.row)):
                            await queue.get()
                    # Coalesce a storm of votes: at most one read per tick, and always
                    # one after the last vote (its event is what woke us up).
                    pause = last + POLL_TICK - loop.time()
                    if pause > 0:
                        await asyncio.sleep(pause)
                    _drain(queue)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("poll hub %s failed", self.poll_id)
        finally:
            if not self.finished:
                self._finish()

    async def _compute(self) -> PollSnapshot | None:
        while True:
            try:
                row = await PollRow.filter(id=self.poll_id).first()
                if row is None:
                    return None
                poll = Poll.from_model(row)
                results = await poll_results(Loaders(None), poll)
                return PollSnapshot(row=row, results=results)
            except Exception as exc:  # noqa: BLE001 - the database hiccuped: try again
                log.warning("poll %s results not read (%s); retrying", self.poll_id, exc)
                await asyncio.sleep(RETRY_AFTER)


def _until_status_change(row: PollRow) -> float | None:
    """Seconds until the poll opens or closes by the clock (None: nothing scheduled)."""
    at = now()
    opens, closes = as_utc(row.opens_at), as_utc(row.closes_at)
    instant = opens if at < opens else closes
    return max(0.0, (instant - at).total_seconds()) + CLOCK_SLACK


def _drain(queue: asyncio.Queue[Event]) -> None:
    while not queue.empty():
        queue.get_nowait()


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

