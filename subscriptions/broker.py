"""The event broker: in-process by default (a Redis one joins it with the live issue)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from subscriptions.events import Event

QUEUE_SIZE = 1000


class Broker(Protocol):
    async def publish(self, event: Event) -> None: ...

    def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[Event]]: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """Fans events out to in-memory queues of this process's listeners."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self.published = 0

    async def publish(self, event: Event) -> None:
        self.published += 1
        for queue in list(self._queues.get(event.channel, ())):
            if queue.full():
                # A laggard: drop its oldest event rather than block the publisher.
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
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
