"""The worker is woken after a transaction that queued a message, not after every transaction
(resolvers/mutations.run_in_transaction): a vote, a count or a join queues nothing, and woke
the worker into a claiming transaction of its own each time."""

from __future__ import annotations

from typing import Any

import pytest

import resolvers.mutations as mutations
from access.context import Context
from delivery import enqueue
from events.brokers import InProcessBroker


@pytest.fixture
def wakes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    woken: list[int] = []
    monkeypatch.setattr(mutations, "wake", lambda: woken.append(1))
    return woken


def context() -> Context:
    return Context(request=None, response=None, broker=InProcessBroker(), settings=None)


async def test_a_transaction_that_queued_a_message_wakes_the_worker(wakes: list[int]) -> None:
    async def work() -> Any:
        await enqueue("email", "alice@example.org", {"kind": "test"}, "test:wake:1")
        return True

    assert await mutations.run_in_transaction(context(), work) == (True, [])
    assert wakes == [1]


async def test_a_transaction_that_queued_nothing_leaves_the_worker_alone(wakes: list[int]) -> None:
    async def work() -> Any:
        return True

    assert await mutations.run_in_transaction(context(), work) == (True, [])
    assert wakes == []
