"""Per-process hubs: what many subscribers of one channel share is computed once per event.

A poll watched by 10,000 phones costs one tally read per coalesced tick, not 10,000
per vote; a territory's new feed item or reply is read once and handed to every
subscriber of the territory. Each hub is one task listening to one broker channel
(so one Redis subscription per channel per process, whatever the number of
subscribers); it lives while it has subscribers. Whether a viewer may see what the
hub computed is checked per subscriber (subscriptions/live.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from models.feed import FeedEntry
from models.polls import Poll as PollRow
from models.questions import Question as QuestionRow
from models.questions import Reply as ReplyRow
from resolvers.loaders import Loaders
from schema.feed import feed_edge, resolve_feed_entries
from schema.polls import Poll, PollResults, as_utc, poll_results
from schema.questions import Reply
from schema.relay import Edge
from subscriptions.broker import RESYNC
from subscriptions.events import Event, poll_channel, territory_channel

log = logging.getLogger("parvis.live")

T = TypeVar("T")

# A poll's results go out at most once per POLL_TICK seconds, with the latest state.
POLL_TICK = 0.25
# When a poll opens or closes by the clock, push a little after the instant (so the
# status computed then is already the new one).
CLOCK_SLACK = 0.05
RETRY_AFTER = 1.0
SUBSCRIBER_QUEUE = 500


class Slot(Generic[T]):
    """A subscriber's mailbox for the latest state: a newer value replaces an unread
    one (coalescing), and the last value is never lost, even when the hub ends."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._fresh = False
        self.ended = False
        self._ready = asyncio.Event()

    def put(self, value: T) -> None:
        self._value = value
        self._fresh = True
        self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    async def get(self) -> T | None:
        """The latest unread value; None once the hub ended and all was read."""
        while True:
            if self._fresh:
                self._fresh = False
                return self._value
            if self.ended:
                return None
            self._ready.clear()
            await self._ready.wait()


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


class PollHub:
    """One task per watched poll: reads the tally once per coalesced tick, fans it out."""

    def __init__(self, hubs: Hubs, poll_id: int) -> None:
        self.hubs = hubs
        self.poll_id = poll_id
        self.slots: set[Slot[PollSnapshot]] = set()
        self.latest: PollSnapshot | None = None
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        self.ticks = 0

    @contextlib.asynccontextmanager
    async def join(self) -> AsyncIterator[Slot[PollSnapshot]]:
        slot: Slot[PollSnapshot] = Slot()
        if self.latest is not None:
            slot.put(self.latest)
        if self.finished:
            slot.end()
        else:
            self.slots.add(slot)
            if self.task is None:
                self.task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield slot
        finally:
            self.slots.discard(slot)
            if not self.slots and not self.finished:
                self._finish()
                if self.task is not None:
                    self.task.cancel()

    def _finish(self) -> None:
        self.finished = True
        for slot in list(self.slots):
            slot.end()
        self.slots.clear()
        if self.hubs.polls.get(self.poll_id) is self:
            del self.hubs.polls[self.poll_id]

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
                        self.latest = snapshot
                        self.ticks += 1
                        for slot in list(self.slots):
                            slot.put(snapshot)
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
    now = dt.datetime.now(dt.UTC)
    opens, closes = as_utc(row.opens_at), as_utc(row.closes_at)
    instant = opens if now < opens else closes
    return max(0.0, (instant - now).total_seconds()) + CLOCK_SLACK


def _drain(queue: asyncio.Queue[Event]) -> None:
    while not queue.empty():
        queue.get_nowait()


@dataclass(frozen=True)
class FeedNews:
    """A new feed item, resolved once: its entry id and edge (None: its subject is
    hidden or gone)."""

    entry_id: int
    edge: Edge[Any] | None


@dataclass(frozen=True)
class ReplyNews:
    """A new official reply, read once; `hidden` when it or its question is hidden."""

    reply: Reply
    official_id: int
    territory_id: int
    hidden: bool


# What a territory subscriber receives: news, or RESYNC_MARK (events may have been lost:
# re-read the database).
RESYNC_MARK = "resync"


class TerritorySubscriber:
    def __init__(self, kind: str) -> None:
        self.kind = kind  # "feed" or "reply"
        self.queue: asyncio.Queue[Any] = asyncio.Queue(SUBSCRIBER_QUEUE)
        # Set when the queue overflowed and news were dropped: re-read the database.
        self.overflowed = False

    def offer(self, item: Any) -> None:
        if self.queue.full():
            self.overflowed = True
            return
        self.queue.put_nowait(item)


class TerritoryHub:
    """One task per watched territory: each feed item and reply is read once."""

    def __init__(self, hubs: Hubs, territory_id: int) -> None:
        self.hubs = hubs
        self.territory_id = territory_id
        self.subscribers: set[TerritorySubscriber] = set()
        self.task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.finished = False
        self.reads = 0

    @contextlib.asynccontextmanager
    async def join(self, kind: str) -> AsyncIterator[TerritorySubscriber]:
        subscriber = TerritorySubscriber(kind)
        self.subscribers.add(subscriber)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())
        try:
            # Once the hub listens, whatever commits next reaches this subscriber: the
            # resumable feed reads the database only after this.
            await self.started.wait()
            yield subscriber
        finally:
            self.subscribers.discard(subscriber)
            if not self.subscribers and not self.finished:
                self._finish()
                if self.task is not None:
                    self.task.cancel()

    def _finish(self) -> None:
        self.finished = True
        if self.hubs.territories.get(self.territory_id) is self:
            del self.hubs.territories[self.territory_id]

    async def _run(self) -> None:
        try:
            async with self.hubs.broker.listen(territory_channel(self.territory_id)) as queue:
                self.started.set()
                dropped = 0
                while True:
                    event = await queue.get()
                    lost = getattr(queue, "dropped", 0)
                    if lost != dropped:
                        # This hub lagged and the broker dropped events: readers re-read.
                        dropped = lost
                        await self._dispatch(Event(channel=event.channel, type=RESYNC))
                    await self._dispatch(event)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("territory hub %s failed", self.territory_id)
        finally:
            self.started.set()
            if not self.finished:
                self._finish()
            for subscriber in list(self.subscribers):
                subscriber.offer(None)  # ends the stream

    async def _dispatch(self, event: Event) -> None:
        kinds = {s.kind for s in self.subscribers}
        item: Any = None
        if event.type == RESYNC:
            item = RESYNC_MARK
        elif event.type == "feed" and "feed" in kinds:
            item = await self._read(self._feed_news, event)
        elif event.type == "reply" and "reply" in kinds:
            item = await self._read(self._reply_news, event)
        if item is None:
            return
        wanted = {
            str: {"feed", "reply"}, FeedNews: {"feed"}, ReplyNews: {"reply"}
        }[type(item)]
        for subscriber in list(self.subscribers):
            if subscriber.kind in wanted:
                subscriber.offer(item)

    async def _read(self, reader: Any, event: Event) -> Any:
        try:
            self.reads += 1
            return await reader(event)
        except Exception as exc:  # noqa: BLE001 - skip the event, tell feed readers to re-read
            log.warning("territory %s: %s event not read (%s)", self.territory_id, event.type, exc)
            return RESYNC_MARK

    async def _feed_news(self, event: Event) -> FeedNews | None:
        entry = await FeedEntry.filter(id=int(event.data["entry"])).first()
        if entry is None or entry.territory_id != self.territory_id:
            return None
        if entry.hidden:
            return FeedNews(entry_id=entry.id, edge=None)
        resolved = await resolve_feed_entries(Loaders(None), [entry])
        if not resolved:
            return FeedNews(entry_id=entry.id, edge=None)
        _, node = resolved[0]
        return FeedNews(entry_id=entry.id, edge=feed_edge(entry, node))

    async def _reply_news(self, event: Event) -> ReplyNews | None:
        row = await ReplyRow.filter(id=int(event.data["reply"])).first()
        if row is None:
            return None
        question = await QuestionRow.filter(id=row.question_id).first()
        hidden = bool(row.hidden or question is None or question.hidden)
        return ReplyNews(
            reply=Reply.from_model(row),
            official_id=row.official_id,
            territory_id=row.territory_id,
            hidden=hidden,
        )


class Hubs:
    """This process's hubs over one broker."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker
        self.polls: dict[int, PollHub] = {}
        self.territories: dict[int, TerritoryHub] = {}

    def poll(self, poll_id: int) -> PollHub:
        hub = self.polls.get(poll_id)
        if hub is None or hub.finished:
            hub = self.polls[poll_id] = PollHub(self, poll_id)
        return hub

    def territory(self, territory_id: int) -> TerritoryHub:
        hub = self.territories.get(territory_id)
        if hub is None or hub.finished:
            hub = self.territories[territory_id] = TerritoryHub(self, territory_id)
        return hub


_HUBS: weakref.WeakKeyDictionary[Any, Hubs] = weakref.WeakKeyDictionary()


def hubs_for(broker: Any) -> Hubs:
    """The hubs of a broker (one set per app, so per process)."""
    hubs = _HUBS.get(broker)
    if hubs is None:
        hubs = _HUBS[broker] = Hubs(broker)
    return hubs

