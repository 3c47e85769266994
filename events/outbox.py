"""A request's outbox: the events a mutation queues, published only once its transaction
commits, so nothing is ever published for a write that rolled back."""

from __future__ import annotations

from collections.abc import Callable

from events.brokers import Broker
from events.envelopes import Event


class Outbox:
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._after_commit: list[Callable[[], None]] = []

    def queue(self, event: Event) -> None:
        self._events.append(event)

    def after_commit(self, hand_off: Callable[[], None]) -> None:
        """Call `hand_off` once the transaction committed, after the events are published.
        It must return at once (start a background task, enqueue a job): the request waits."""
        self._after_commit.append(hand_off)

    def clear(self) -> None:
        """Forget what was queued (the transaction rolled back)."""
        self._events.clear()
        self._after_commit.clear()

    async def publish(self, broker: Broker) -> None:
        """Publish what was queued, in order (the transaction committed)."""
        events, self._events = self._events, []
        hand_offs, self._after_commit = self._after_commit, []
        for event in events:
            await broker.publish(event)
        for hand_off in hand_offs:
            hand_off()
