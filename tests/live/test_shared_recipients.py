"""The recipients of a shared stream (subscriptions/shared.py), in process: a recipient is a small
mailbox woken by its group (no task, no event of its own), coalescing the latest tally or
queueing replies within bounds, and the group hands every recipient the same payload once per
result, the latest to a late joiner, the end to all, and stops when the last one leaves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from strawberry.types.execution import ExecutionResult

from access.context import Context
from events.brokers import InProcessBroker
from subscriptions.shared import RECIPIENT_QUEUE, Plan, Recipient, SharedStreams

QUERY = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes } }"
TALLY = Plan(root="pollResults", scope_argument="UG9sbDox", replay_latest=True)
REPLIES = Plan(root="officialReplies", scope_argument="VGVycml0b3J5OjE=", replay_latest=False)


class Watcher(Recipient):
    """A recipient that counts its wake-ups (the connection's recipient starts its writer there)."""

    __slots__ = ("wakes",)

    def __init__(self, operation_id: str, coalesce: bool) -> None:
        super().__init__(operation_id, coalesce)
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1

    def frames(self) -> list[dict[str, Any]]:
        out = []
        while (frame := self.take()) is not None:
            out.append(json.loads(frame))
        return out


class Source:
    """A stand-in for the schema: one stream whose results the test pushes."""

    def __init__(self) -> None:
        self.results: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.streams = 0
        self.closed = 0

    async def stream(self, query: str, **_: Any) -> AsyncIterator[ExecutionResult]:
        self.streams += 1

        async def results() -> AsyncIterator[ExecutionResult]:
            try:
                while (data := await self.results.get()) is not None:
                    yield ExecutionResult(data=data, errors=None)
            finally:
                self.closed += 1

        return results()


def context() -> Context:
    return Context(request=None, response=None, broker=InProcessBroker(), settings=None)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_tally_member_keeps_only_the_latest_unread_payload_under_its_own_id() -> None:
    alice = Watcher("s-1", coalesce=True)
    assert alice.take() is None
    alice.offer('{"data":{"n":1}}')
    alice.offer('{"data":{"n":2}}')
    # Woken at each offer; its writer finds the latest state only
    assert alice.wakes == 2
    assert alice.frames() == [{"id": "s-1", "type": "next", "payload": {"data": {"n": 2}}}]
    alice.end()
    assert alice.ended and alice.error is None and alice.wakes == 3


def test_a_replies_member_queues_within_bounds_and_drops_the_oldest() -> None:
    bob = Watcher('quote"d', coalesce=False)
    for n in range(RECIPIENT_QUEUE + 3):
        bob.offer(orjson.dumps({"data": {"n": n}}).decode())
    frames = bob.frames()
    assert len(frames) == RECIPIENT_QUEUE and bob.dropped == 3
    assert [f["payload"]["data"]["n"] for f in frames[:2]] == [3, 4]
    assert {f["id"] for f in frames} == {'quote"d'}
    # Drained, then more: in order again
    bob.offer('{"data":{"n":"again"}}')
    assert bob.frames()[0]["payload"]["data"]["n"] == "again"


async def test_a_group_hands_each_result_to_every_member_and_the_latest_to_newcomers() -> None:
    streams, source = SharedStreams(), Source()
    ctx = context()
    alice, bob = Watcher("a", True), Watcher("b", True)
    group = streams.join(source, TALLY, alice, QUERY, {"p": "UG9sbDox"}, None, ctx)
    assert streams.join(source, TALLY, bob, QUERY, {"p": "UG9sbDox"}, None, ctx) is group

    source.results.put_nowait({"pollResults": {"totalVotes": 0}})
    await settle()
    assert source.streams == 1  # executed once for both
    assert [f["payload"] for f in alice.frames()] == [{"data": {"pollResults": {"totalVotes": 0}}}]
    assert [f["id"] for f in bob.frames()] == ["b"]

    # A late joiner gets the current state at once (pollResults replays the latest)
    carol = Watcher("c", True)
    streams.join(source, TALLY, carol, QUERY, {"p": "UG9sbDox"}, None, ctx)
    assert carol.wakes == 1 and carol.frames()[0]["payload"]["data"]["pollResults"]["totalVotes"] == 0

    # Recipients who leave get nothing more; the group lives while anyone is left
    alice.leave()
    alice.leave()  # idempotent
    source.results.put_nowait({"pollResults": {"totalVotes": 1}})
    await settle()
    assert alice.take() is None
    assert bob.frames()[0]["payload"]["data"]["pollResults"]["totalVotes"] == 1
    bob.leave()
    carol.leave()
    await settle()
    # The last one out stops the stream and frees the key: the next subscriber starts afresh
    assert group.finished and group.task.done() and source.closed == 1
    assert streams.groups == {}


async def test_the_end_of_a_stream_reaches_every_member_after_its_last_payload() -> None:
    streams, source = SharedStreams(), Source()
    recipients = [Watcher(f"m{i}", True) for i in range(3)]
    for recipient in recipients:
        streams.join(source, TALLY, recipient, QUERY, {"p": "UG9sbDox"}, None, context())
    source.results.put_nowait({"pollResults": {"totalVotes": 7}})
    source.results.put_nowait(None)  # the poll closed: the stream ends
    await settle()
    for recipient in recipients:
        assert recipient.ended and recipient.error is None
        assert recipient.frames()[0]["payload"]["data"]["pollResults"]["totalVotes"] == 7
    assert streams.groups == {}


async def test_members_of_replies_get_nothing_on_joining() -> None:
    streams, source = SharedStreams(), Source()
    first, late = Watcher("1", False), Watcher("2", False)
    streams.join(source, REPLIES, first, QUERY, {"t": 1}, None, context())
    source.results.put_nowait({"officialReplies": {"id": "r1"}})
    await settle()
    streams.join(source, REPLIES, late, QUERY, {"t": 1}, None, context())
    assert late.wakes == 0 and late.take() is None
    assert first.frames()[0]["payload"]["data"]["officialReplies"]["id"] == "r1"
    first.leave()
    late.leave()
    await settle()
