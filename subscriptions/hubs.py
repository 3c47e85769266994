"""Per-process hubs: what many subscribers of one channel share is computed once per event.

Each hub is one task listening to one broker channel (so one Redis subscription per channel
per process, whatever the number of subscribers) and lives while it has subscribers. A poll
hub (subscriptions/polls.py) reads a tally once per coalesced tick; a territory hub reads
each new feed item or reply once, with the reader its subscribers of that kind brought
(subscriptions/feed.py, subscriptions/questions.py). Whether a viewer may see what a hub
computed is checked per subscriber, in the stream. Reasoning: docs/adr/0004.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from events.brokers import RESYNC, Broker
from events.envelopes import Event, territory_channel

log = logging.getLogger("parvis.live")

T = TypeVar("T")
H = TypeVar("H", bound="Hub")

SUBSCRIBER_QUEUE = 500
# What a territory subscriber receives when events may have been lost: re-read the database.
RESYNC_MARK = "resync"


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


class Hub(Protocol):
    finished: bool


class LatestHub(Generic[T]):
    """A hub whose subscribers want the latest state: one task (`_run`, in the subclass)
    computes it and `_publish`es; joining gives a Slot with the last state at once. The hub
    finishes with its last subscriber, or when `_run` ends (then every slot ends)."""

    def __init__(self, hubs: Hubs, key: Hashable) -> None:
        self.hubs = hubs
        self.key = key
        self.slots: set[Slot[T]] = set()
        self.latest: T | None = None
        self.finished = False
        self.task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def join(self) -> AsyncIterator[Slot[T]]:
        slot: Slot[T] = Slot()
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

    def _publish(self, value: T) -> None:
        self.latest = value
        for slot in list(self.slots):
            slot.put(value)

    def _finish(self) -> None:
        self.finished = True
        for slot in list(self.slots):
            slot.end()
        self.slots.clear()
        self.hubs.release(self.key, self)

    async def _run(self) -> None:
        raise NotImplementedError


class Snapshot(Protocol):
    """What a TickedHub publishes: subscribers tell two apart by `key`; `final` ends the stream."""

    @property
    def key(self) -> tuple[Any, ...]: ...

    @property
    def final(self) -> bool: ...


S = TypeVar("S", bound=Snapshot)

# A ticked hub reads at most once per TICK seconds, with the latest state; when its state
# changes by the clock, it reads a little after the instant (so what it computes then is
# already the new state).
TICK = 0.25
CLOCK_SLACK = 0.05
RETRY_AFTER = 1.0


def seconds_until_window_change(opens: dt.datetime, closes: dt.datetime, at: dt.datetime) -> float:
    """Seconds until something open between `opens` and `closes` opens or closes, at `at`."""
    instant = opens if at < opens else closes
    return max(0.0, (instant - at).total_seconds()) + CLOCK_SLACK


class TickedHub(LatestHub[S]):
    """One task per watched channel (a poll's tally, a survey's results): reads the state once
    per coalesced tick after events on `channel`, or when the clock changes it, publishes it
    when subscribers can tell it from the last, and ends once it is final or gone."""

    def __init__(self, hubs: Hubs, key: Hashable, channel: str) -> None:
        super().__init__(hubs, key)
        self.channel = channel
        self.ticks = 0  # states published

    async def _read(self) -> S | None:
        """The state now; None when what is watched is gone."""
        raise NotImplementedError

    def _until_change(self, snapshot: S) -> float | None:
        """Seconds until the clock changes the state (None: it does not)."""
        return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Listen before the first read: a write committed in between is not missed.
            async with self.hubs.broker.listen(self.channel) as queue:
                while True:
                    snapshot = await self._compute()
                    last = loop.time()
                    if snapshot is None:
                        break
                    # An event can arrive after a read that already saw its write: the same
                    # state is not sent twice.
                    if self.latest is None or snapshot.key != self.latest.key:
                        self.ticks += 1
                        self._publish(snapshot)
                    if snapshot.final:
                        break
                    # (asyncio.timeout: wait_for may swallow the hub's cancellation on 3.11)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._until_change(snapshot)):
                            await queue.get()
                    # Coalesce a storm of writes: at most one read per tick, and always one
                    # after the last write (its event is what woke us up).
                    pause = last + TICK - loop.time()
                    if pause > 0:
                        await asyncio.sleep(pause)
                    while not queue.empty():
                        queue.get_nowait()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("hub %s failed", self.key)
        finally:
            if not self.finished:
                self._finish()

    async def _compute(self) -> S | None:
        while True:
            try:
                return await self._read()
            except Exception as exc:  # noqa: BLE001 - the database hiccuped: try again
                log.warning("hub %s not read (%s); retrying", self.key, exc)
                await asyncio.sleep(RETRY_AFTER)


class Hubs:
    """This process's hubs over one broker, by key (("poll", 12), ("territory", 3))."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._hubs: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[Hubs], H]) -> H:
        """The live hub under `key`, or a new one made by `make(self)`."""
        hub = self._hubs.get(key)
        if hub is None or hub.finished:
            hub = self._hubs[key] = make(self)
        return hub

    def find(self, key: Hashable) -> Any | None:
        """The hub under `key`, if there is one."""
        return self._hubs.get(key)

    def release(self, key: Hashable, hub: Any) -> None:
        """A finished hub leaves the registry (if it is still the one there)."""
        if self._hubs.get(key) is hub:
            del self._hubs[key]

    def __len__(self) -> int:
        return len(self._hubs)


_HUBS: weakref.WeakKeyDictionary[Broker, Hubs] = weakref.WeakKeyDictionary()


def hubs_for(broker: Broker) -> Hubs:
    """The hubs of a broker (one set per app, so per process)."""
    hubs = _HUBS.get(broker)
    if hubs is None:
        hubs = _HUBS[broker] = Hubs(broker)
    return hubs


# What a territory hub's subscribers of one kind bring: how to read an event of that kind
# once for all of them (None: nothing to hand out).
NewsReader = Callable[[Event], Awaitable[Any]]


class TerritorySubscriber:
    """A territory stream's mailbox: news of its kind, RESYNC_MARK, or None (the end)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # the event type it wants: "feed" or "reply"
        self.queue: asyncio.Queue[Any] = asyncio.Queue(SUBSCRIBER_QUEUE)
        # Set when the queue overflowed and news were dropped: re-read the database.
        self.overflowed = False

    def offer(self, item: Any) -> None:
        if self.queue.full():
            self.overflowed = True
            return
        self.queue.put_nowait(item)


class TerritoryHub:
    """One task per watched territory: each event of a wanted kind is read once."""

    def __init__(self, hubs: Hubs, territory_id: int) -> None:
        self.hubs = hubs
        self.territory_id = territory_id
        self.subscribers: set[TerritorySubscriber] = set()
        self.readers: dict[str, NewsReader] = {}
        self.task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.finished = False
        self.reads = 0

    @contextlib.asynccontextmanager
    async def join(self, kind: str, reader: NewsReader) -> AsyncIterator[TerritorySubscriber]:
        subscriber = TerritorySubscriber(kind)
        self.readers.setdefault(kind, reader)
        self.subscribers.add(subscriber)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())
        try:
            # Once the hub listens, whatever commits next reaches this subscriber: a
            # resumable stream reads the database only after this.
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
        self.hubs.release(("territory", self.territory_id), self)

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
                        self._hand_out(None, RESYNC_MARK)
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
        if event.type == RESYNC:
            self._hand_out(None, RESYNC_MARK)
            return
        reader = self.readers.get(event.type)
        if reader is None or not any(s.kind == event.type for s in self.subscribers):
            return
        try:
            self.reads += 1
            item = await reader(event)
        except Exception as exc:  # noqa: BLE001 - skip the event, tell readers to re-read
            log.warning("territory %s: %s event not read (%s)", self.territory_id, event.type, exc)
            item = RESYNC_MARK
        if item is not None:
            self._hand_out(event.type, item)

    def _hand_out(self, kind: str | None, item: Any) -> None:
        """`item` to the subscribers of `kind` (None: to every subscriber)."""
        for subscriber in list(self.subscribers):
            if kind is None or subscriber.kind == kind:
                subscriber.offer(item)


def territory_hub(broker: Broker, territory_id: int) -> TerritoryHub:
    return hubs_for(broker).get(("territory", territory_id), lambda hubs: TerritoryHub(hubs, territory_id))
