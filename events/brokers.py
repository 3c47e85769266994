"""The event broker: in-process (one process, the default) or Redis pub/sub (several).

Both fan events out in memory to this process's listeners; listen() yields an
asyncio.Queue per listener, bounded: a laggard loses its oldest events, never blocks
the publisher (the resumable streams re-read the database, so they lose nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as redis

from events.bounded import bounded
from events.envelopes import Event

QUEUE_SIZE = 1000
# The type of the event a listener gets when events may have been lost (Redis outage).
RESYNC = "resync"


class ListenerQueue(asyncio.Queue[Event]):
    """A listener's queue; `dropped` counts the events a full queue lost (oldest first),
    so a listener can tell it must re-read the database."""

    dropped = 0

    def offer(self, event: Event) -> None:
        if self.full():
            # A laggard: drop its oldest event rather than block the publisher.
            self.get_nowait()
            self.dropped += 1
        self.put_nowait(event)


class Broker(Protocol):
    # Called once per event this broker publishes (the app counts them for /metrics).
    on_publish: Callable[[], None] | None

    async def publish(self, event: Event) -> None: ...

    def listen(self, channel: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """Fans events out to in-memory queues of this process's listeners."""

    def __init__(self) -> None:
        self._queues: dict[str, set[ListenerQueue]] = defaultdict(set)
        self.published = 0
        self.on_publish: Callable[[], None] | None = None  # counts for /metrics

    async def publish(self, event: Event) -> None:
        self.published += 1
        if self.on_publish is not None:
            self.on_publish()
        for queue in list(self._queues.get(event.channel, ())):
            queue.offer(event)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue = ListenerQueue(QUEUE_SIZE)
        self._queues[channel].add(queue)
        try:
            yield queue
        finally:
            listeners = self._queues.get(channel)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


log = logging.getLogger("parvis.broker")

# Redis channel names are namespaced, so Parvis can share a Redis with other services.
REDIS_PREFIX = "parvis:"
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 15.0
# How long listen() waits for Redis to confirm a new subscription before going on
# (local events flow at once anyway; remote ones once Redis is back).
SUBSCRIBE_WAIT = 2.0
# The reader polls with this timeout, pings Redis every PING_EVERY seconds, and
# reconnects when it heard nothing (not even a pong) for SILENCE_LIMIT seconds.
READ_TIMEOUT = 1.0
PING_EVERY = 10.0
SILENCE_LIMIT = 30.0
# Publishing, pinging and (un)subscribing wait at most this long for Redis (events/bounded.py).
CALL_TIMEOUT = 2.0


class RedisBroker:
    """Redis pub/sub across processes, ONE subscribing connection per process.

    Local listeners are fanned out in memory (an InProcessBroker), whatever their
    number: Redis sees one SUBSCRIBE per channel with listeners here, not one per
    GraphQL subscriber. An event published here reaches this process's listeners at
    once and other processes through Redis; the echo of our own events is skipped
    (each message carries this broker's origin id). If Redis drops, the reader
    reconnects with backoff and re-subscribes; publishing keeps serving local
    listeners meanwhile and logs what other processes missed.
    """

    def __init__(self, url: str, namespace: str = "") -> None:
        self.url = url
        # Channels of one deployment (its database): two deployments on one Redis never cross.
        self.prefix = f"{REDIS_PREFIX}{namespace}:" if namespace else REDIS_PREFIX
        self.origin = uuid.uuid4().hex
        self._local = InProcessBroker()
        self._publisher = redis.Redis.from_url(url, socket_keepalive=True, socket_connect_timeout=5)
        self._pubsub: Any = None
        self._wanted: set[str] = set()
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.connected = asyncio.Event()
        self.published = 0
        self.on_publish: Callable[[], None] | None = None  # counts for /metrics
        self.publish_failures = 0

    @property
    def control_channel(self) -> str:
        return f"{self.prefix}control:{self.origin}"

    async def ping(self) -> None:
        """Raises unless Redis answers (readiness checks)."""
        await bounded(self._publisher.ping(), CALL_TIMEOUT)

    def start(self) -> None:
        """Start the reader (done on first use; call it from the app's lifespan)."""
        if self._reader is None and not self._closed:
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())

    async def publish(self, event: Event) -> None:
        self.start()
        self.published += 1
        if self.on_publish is not None:
            self.on_publish()
        await self._local.publish(event)
        message = json.dumps(
            {"o": self.origin, "c": event.channel, "t": event.type, "d": event.data},
            separators=(",", ":"),
        )
        try:
            await bounded(self._publisher.publish(self.prefix + event.channel, message), CALL_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - Redis down: local listeners were served
            self.publish_failures += 1
            log.warning("redis publish failed (%s: %s); %s not sent to other processes",
                        type(exc).__name__, exc, event.type)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[Event]]:
        self.start()
        async with self._local.listen(channel) as queue:
            # The whole body is in the try: a listener cancelled while its subscription
            # is being confirmed must still let go of the channel (else it stays
            # subscribed in Redis with nobody here; found by tests/live/test_cycles.py).
            try:
                if channel not in self._wanted:
                    self._wanted.add(channel)
                    await self._subscribe(channel)
                else:
                    # Someone here already asked for it: wait for the same confirmation.
                    waiter = self._confirmed.get(channel)
                    if waiter is not None and not waiter.done():
                        with contextlib.suppress(Exception):
                            async with asyncio.timeout(SUBSCRIBE_WAIT):
                                await asyncio.shield(waiter)
                yield queue
            finally:
                if len(self._local._queues.get(channel, ())) <= 1:
                    # We are the last listener here (our queue leaves right after this).
                    self._wanted.discard(channel)
                    self._spawn(self._unsubscribe(channel))

    async def _subscribe(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self.connected.is_set():
            return  # the reader subscribes every wanted channel when it (re)connects
        waiter = self._confirmed.get(channel)
        if waiter is None or waiter.done():
            waiter = self._confirmed[channel] = asyncio.get_running_loop().create_future()
        try:
            await bounded(pubsub.subscribe(self.prefix + channel), CALL_TIMEOUT)
            # The confirmation means Redis now routes the channel's messages to us: an
            # event committed after this point cannot be missed (the resumable
            # streams rely on it: listen first, then read the database).
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation
            # that arrives as the waiter completes, and the cancelled subscription would
            # then live on (a leaked listener, found by tests/live/test_cycles.py).
            async with asyncio.timeout(SUBSCRIBE_WAIT):
                await asyncio.shield(waiter)
        except Exception as exc:  # noqa: BLE001 - the reader will resubscribe on reconnect
            log.warning("redis subscribe to %s not confirmed (%s)", channel, type(exc).__name__)

    async def _unsubscribe(self, channel: str) -> None:
        if channel in self._wanted or self._pubsub is None or not self.connected.is_set():
            return
        try:
            await bounded(self._pubsub.unsubscribe(self.prefix + channel), CALL_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            log.debug("redis unsubscribe of %s failed: %s", channel, exc)

    def _spawn(self, coro: Any) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_forever(self) -> None:
        delay = BACKOFF_FIRST
        reconnecting = False
        while not self._closed:
            try:
                await self._connect()
                delay = BACKOFF_FIRST
                if reconnecting:
                    self._resync()
                reconnecting = True
                await self._read_messages()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - never let Redis take the server down
                log.warning("redis subscriber lost (%s: %s); reconnecting in %.1f s",
                            type(exc).__name__, exc, delay)
            self.connected.clear()
            await self._drop_pubsub()
            if self._closed:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _connect(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_keepalive=True, socket_connect_timeout=5, socket_timeout=None
        )
        pubsub = client.pubsub()
        self._pubsub = pubsub
        # The control channel keeps the connection in subscribe mode even with no
        # listener, so the reader always has something to block on.
        channels = [self.control_channel, *(self.prefix + c for c in sorted(self._wanted))]
        await pubsub.subscribe(*channels)
        self.connected.set()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _read_messages(self) -> None:
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while not self._closed:
            pubsub = self._pubsub
            message = await pubsub.get_message(timeout=READ_TIMEOUT)
            now = loop.time()
            if message is not None:
                heard = now
                self._handle(message)
            elif now - heard > SILENCE_LIMIT:
                raise ConnectionError(f"no word from redis for {SILENCE_LIMIT:.0f} s")
            if now - pinged > PING_EVERY:
                pinged = now
                await pubsub.ping()

    def _resync(self) -> None:
        """After an outage, tell every local listener that events may have been
        missed: the resumable streams re-read the database, poll tallies recompute."""
        for channel in list(self._wanted):
            self._deliver(Event(channel=channel, type=RESYNC))

    def _deliver(self, event: Event) -> None:
        # Synchronously, in order (as InProcessBroker.publish does).
        for queue in list(self._local._queues.get(event.channel, ())):
            queue.offer(event)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = _text(message.get("channel"))
        if kind == "subscribe" and channel.startswith(self.prefix):
            waiter = self._confirmed.pop(channel[len(self.prefix):], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind != "message":
            return
        try:
            body = json.loads(message["data"])
            if body.get("o") == self.origin:
                return  # our own event, already delivered locally
            event = Event(channel=str(body["c"]), type=str(body["t"]), data=dict(body.get("d") or {}))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed message on %s: %s", channel, exc)
            return
        self._deliver(event)

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        for task in list(self._tasks):
            task.cancel()
        await self._drop_pubsub()
        with contextlib.suppress(Exception):
            await self._publisher.aclose()
        await self._local.close()


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value) if value is not None else ""
