"""Attacking castVote's group commit (docs/adr/0022): ballots that wait in a poll's queue
while the world changes under them, a writer stopped mid-batch, the order of the sealed rows.
Each story holds the writer at the door of its transaction, changes something, then lets it
write."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import connections

import resolvers.ballot_writer as writer
from access.sealing import keys_for, open_ballot, seal_ballot
from events.brokers import InProcessBroker
from models.polls import SealedBallot
from tests.factories import make_person
from tests.polls.stories import close, counters, created, option_ids, pk_of, town, vote


def outcome(result: dict[str, Any]) -> str:
    assert not result.get("errors"), result
    errors = result["data"]["castVote"]["userErrors"]
    return errors[0]["code"] if errors else "COUNTED"


def hold(monkeypatch: Any) -> tuple[asyncio.Event, asyncio.Event]:
    """The writer waits before each batch's transaction until `go` is set; `arrived` says it
    got there."""
    arrived, go = asyncio.Event(), asyncio.Event()
    commit = writer._commit

    async def held(queue: Any, ballots: Any) -> Any:
        arrived.set()
        await go.wait()
        return await commit(queue, ballots)

    monkeypatch.setattr(writer, "_commit", held)
    return arrived, go


async def test_a_ballot_queued_when_close_poll_commits_is_refused_and_never_counted(gql: Any, monkeypatch: Any) -> None:
    # Given alice's ballot checked (the poll open) and waiting for the writer's transaction
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    arrived, go = hold(monkeypatch)
    hers = asyncio.create_task(vote(gql, t.alice.token, poll["id"], option_ids(poll)[0]))
    await asyncio.wait_for(arrived.wait(), 5)

    # When odile closes the poll before the batch writes, then the writer goes on
    closed = await asyncio.wait_for(close(gql, t.odile.token, poll["id"]), 10)
    assert not closed.get("errors"), closed
    go.set()

    # Then alice is told POLL_CLOSED, and nothing of her ballot is stored or counted
    assert outcome(await asyncio.wait_for(hers, 5)) == "POLL_CLOSED"
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)
    assert await SealedBallot.filter(poll_id=pk_of(poll["id"], "Poll")).count() == 0


async def test_the_writer_stopped_mid_retry_leaves_no_voter_waiting_forever(gql: Any, settings: Any, monkeypatch: Any) -> None:
    # Given three ballots in one batch whose transaction fails, so they are written again one
    # by one, and a writer that is stopped (the process shutting down) during the first retry
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    pk = pk_of(poll["id"], "Poll")
    keys = keys_for(settings.secret)
    voters = [await make_person(f"voter{i}", t.territory) for i in range(3)]
    commit = writer._commit
    retrying = asyncio.Event()

    async def failing(queue: Any, ballots: Any) -> Any:
        if len(ballots) > 1:
            raise ConnectionError("connection lost")
        retrying.set()
        await asyncio.sleep(3600)  # the retry hangs until the writer is stopped
        return await commit(queue, ballots)

    monkeypatch.setattr(writer, "_commit", failing)
    broker = InProcessBroker()
    waits = [asyncio.create_task(writer.cast_ballot(pk, 1, broker, p.member.id, seal_ballot(keys, pk, [0])))
             for p in voters if p.member is not None]
    await asyncio.wait_for(retrying.wait(), 5)

    # When the writer task is cancelled
    queue = writer._queues[(asyncio.get_running_loop(), pk)]
    assert queue.writer is not None
    queue.writer.cancel()

    # Then every voter gets an answer (an error, never a false success), none hangs
    done = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 5)
    assert all(isinstance(r, RuntimeError) for r in done), done
    assert await counters(poll["id"]) == (0, {"Blue": 0, "Green": 0, "Red": 0}, 0)


async def test_a_writer_stopped_after_its_commit_answers_its_voters(gql: Any, settings: Any, monkeypatch: Any) -> None:
    # Given two ballots whose batch commits, and a writer stopped while it announces the write
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    pk = pk_of(poll["id"], "Poll")
    keys = keys_for(settings.secret)
    announced = asyncio.Event()

    async def slow_announce(broker: Any, tables: Any = None) -> None:
        announced.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(writer, "announce_write", slow_announce)
    members = [m for m in (t.alice.member, t.bob.member) if m is not None]
    waits = [asyncio.create_task(writer.cast_ballot(pk, 1, InProcessBroker(), m.id, seal_ballot(keys, pk, [1])))
             for m in members]
    await asyncio.wait_for(announced.wait(), 5)

    # When the writer is cancelled there
    writer._queues[(asyncio.get_running_loop(), pk)].writer.cancel()  # type: ignore[union-attr]

    # Then both voters get their answer (the ballots are committed: cast), none hangs
    done = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 5)
    assert all(isinstance(r, writer.Outcome) and r.tally is not None for r in done), done
    assert await counters(poll["id"]) == (2, {"Blue": 0, "Green": 0, "Red": 0}, 2)


async def _physical_order(pk: int) -> list[Any]:
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        rows = await db.execute_query_dict('SELECT "sealed" FROM "poll_sealed_ballot" WHERE "poll_id" = $1 ORDER BY ctid', [pk])
    else:
        rows = await db.execute_query_dict('SELECT "sealed" FROM "poll_sealed_ballot" WHERE "poll_id" = ? ORDER BY rowid', [pk])
    return [bytes(r["sealed"]) for r in rows]


async def test_sealed_rows_of_a_batch_are_not_in_arrival_order_and_the_queue_is_forgotten(
    gql: Any, settings: Any
) -> None:
    # Given a poll with 8 options and 24 voters whose ballots go in one batch, in a known order
    t = await town(ballot_batch=100)  # no fold: the sealed rows stay
    labels = [f"Option {i}" for i in range(8)]
    poll = await created(gql, t.odile.token, t.gid, options=labels)
    pk = pk_of(poll["id"], "Poll")
    keys = keys_for(settings.secret)
    voters = [await make_person(f"voter{i}", t.territory) for i in range(24)]
    broker = InProcessBroker()
    arrival = [i % 8 for i in range(24)]
    waits = [asyncio.create_task(writer.cast_ballot(pk, 100, broker, p.member.id, seal_ballot(keys, pk, [c])))
             for p, c in zip(voters, arrival, strict=True) if p.member is not None]
    await asyncio.gather(*waits)

    # Then the sealed rows, in the database's own order, do not replay the arrival order
    stored = [open_ballot(keys, pk, s)[0] for s in await _physical_order(pk)]
    assert sorted(stored) == sorted(arrival)
    assert stored != arrival
    # And the poll's queue is gone once its ballots are written (no writer kept per poll)
    assert (asyncio.get_running_loop(), pk) not in writer._queues
