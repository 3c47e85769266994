"""A request's outbox: the events a mutation queues, published only once its transaction
commits, so nothing is ever published for a write that rolled back."""

from __future__ import annotations

from events.brokers import Broker
from events.envelopes import Event


class Outbox:
    def __init__(self) -> None:
        self._events: list[Event] = []

    def queue(self, event: Event) -> None:
        self._events.append(event)

    def clear(self) -> None:
        """Forget what was queued (the transaction rolled back)."""
        self._events.clear()

    async def publish(self, broker: Broker) -> None:
        """Publish what was queued, in order (the transaction committed)."""
        events, self._events = self._events, []
        for event in events:
            await broker.publish(event)
