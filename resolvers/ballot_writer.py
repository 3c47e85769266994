"""Group commit of ballots: the ballots of one poll that a process receives at once are
written by one transaction.

castVote checks its ballot outside any transaction (resolvers/ballot.py), seals it, and puts
it in its poll's queue. One writer task per poll and process takes everything queued (up to
MAX_BATCH) and writes it in ONE transaction: the participations in one INSERT ... ON CONFLICT
DO NOTHING RETURNING (the voters who had no ballot yet), then, for those only, the total
moved once under the poll's row lock (which re-checks the open window) and their sealed
ballots inserted in a random order. The same lock order as a single ballot: the territory's
counters (the participation trigger), then the poll. Each request then gets its own outcome
(cast, ALREADY_VOTED, POLL_CLOSED). A batch whose transaction fails is written again ballot
by ballot, each in a transaction of its own, so one failure (a deadlock with another
process's contributions, a lost connection) reaches only the ballot it belongs to.

Once queued, a ballot belongs to the writer: a request stopped while it waits (timeout,
disconnect) does not take it back; it is written or refused all the same, and the outcome
is logged. Commits shared by several voters also mix their ballots under one transaction id
(docs/adr/0009, 0022).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from events.brokers import Broker
from events.envelopes import Event, poll_channel
from models import clock
from models.polls import PollOption as PollOptionRow
from reads import sql
from reads.loaders import PollTally
from resolvers.mutations import atomic
from resolvers.tally import Fold, fold_for_batch
from schema.errors import Refusal, UserErrorCode
from schema.polls import already_voted
from sharing.stamp import announce_write

log = logging.getLogger("parvis.polls")

# The most ballots one transaction writes.
MAX_BATCH = 64

# $1 poll, $2 the members, sorted. Locks their participant rows (models/stats.py) first, in
# member order, making those that do not exist yet with no contribution: a batch then takes
# its locks in a single ballot's order (each voter's participant row, then the territory's
# counters), so it cannot deadlock with another transaction's contribution of one of its
# voters, nor with another process's batch, where a batch taking the counters row at its
# first voter's trigger and then waiting for a later voter's participant row could.
_LOCK_PARTICIPANTS = (
    'WITH locked AS (INSERT INTO "participant" ("territory_id", "member_id", "contributions") '
    'SELECT p."territory_id", m, 0 FROM "poll" p, unnest($2::int[]) AS m WHERE p."id" = $1 ORDER BY m '
    'ON CONFLICT ("territory_id", "member_id") DO UPDATE SET "contributions" = "participant"."contributions" '
    'RETURNING 1) SELECT count(*) FROM locked'
)
# The rows made above for members whose ballot was refused (none when every voter was new).
_UNLOCK_PARTICIPANTS = (
    'WITH gone AS (DELETE FROM "participant" WHERE "territory_id" = (SELECT "territory_id" FROM "poll" '
    'WHERE "id" = $1) AND "member_id" = ANY($2::int[]) AND "contributions" <= 0 RETURNING 1) '
    'SELECT count(*) FROM gone'
)
# $1 poll, $2 the members, sorted. Returns the members who had no ballot in the poll.
_TAKE_PART_POSTGRES = (
    'WITH taken AS (INSERT INTO "poll_participation" ("poll_id", "member_id") '
    'SELECT $1, m FROM unnest($2::int[]) AS m ORDER BY m ON CONFLICT ("poll_id", "member_id") DO NOTHING '
    'RETURNING "member_id") SELECT "member_id" FROM taken'
)
_TAKE_PART_SQLITE = (
    'INSERT INTO "poll_participation" ("poll_id", "member_id") VALUES ($1, $2) '
    'ON CONFLICT ("poll_id", "member_id") DO NOTHING RETURNING "member_id"'
)

# $1 poll, $2 members: those of them who have a ballot in the poll.
_VOTED_POSTGRES = 'SELECT "member_id" FROM "poll_participation" WHERE "poll_id" = $1 AND "member_id" = ANY($2::int[])'
_VOTED_SQLITE = (
    'SELECT "member_id" FROM "poll_participation" WHERE "poll_id" = $1 '
    'AND "member_id" IN (SELECT value FROM json_each($2))'
)

# $1 poll, $2 now, $3 ballots cast, $4 their random ids, $5 their sealed choices.
_CAST_POSTGRES = (
    "WITH cast_ AS ("
    'UPDATE "poll" SET "total_votes" = "total_votes" + $3 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "id", "total_votes", "counted_votes"), '
    "sealed AS ("
    'INSERT INTO "poll_sealed_ballot" ("id", "poll_id", "sealed") '
    'SELECT b.id, c."id", b.sealed FROM cast_ c, unnest($4::uuid[], $5::bytea[]) AS b(id, sealed)) '
    'SELECT c."total_votes", c."counted_votes", o."id", o."position", o."label", o."votes" '
    'FROM cast_ c LEFT JOIN "poll_option" o ON o."poll_id" = c."id"'
)
_CAST_POLL_SQLITE = (
    'UPDATE "poll" SET "total_votes" = "total_votes" + $3 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "total_votes", "counted_votes"'
)
_SEAL_SQLITE = 'INSERT INTO "poll_sealed_ballot" ("id", "poll_id", "sealed") VALUES ($1, $2, $3)'
_OPTIONS_SQLITE = 'SELECT "id", "position", "label", "votes" FROM "poll_option" WHERE "poll_id" = $1'


@dataclass
class Outcome:
    """What became of one ballot: the tally right after its batch, or its refusal; and the
    fold its batch made due (given to one ballot of the batch)."""

    tally: PollTally | None = None
    refusal: Refusal | None = None
    fold: Fold | None = None


@dataclass
class _Ballot:
    member_id: int
    sealed: bytes
    outcome: asyncio.Future[Outcome]


@dataclass
class _Queue:
    poll_id: int
    batch: int  # the territory's K
    broker: Broker
    waiting: list[_Ballot] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


_queues: dict[tuple[asyncio.AbstractEventLoop, int], _Queue] = {}


async def cast_ballot(poll_id: int, batch: int, broker: Broker, member_id: int, sealed: bytes) -> Outcome:
    """Queue a checked, sealed ballot and wait for its outcome (raises its Refusal)."""
    loop = asyncio.get_running_loop()
    key = (loop, poll_id)
    queue = _queues.get(key)
    if queue is None:
        queue = _queues[key] = _Queue(poll_id, batch, broker)
    ballot = _Ballot(member_id, sealed, loop.create_future())
    queue.waiting.append(ballot)
    if queue.writer is None:
        queue.writer = loop.create_task(_write_all(key, queue))
    try:
        outcome = await asyncio.shield(ballot.outcome)
    except asyncio.CancelledError:
        # The writer owns the ballot now: it is written or refused all the same.
        ballot.outcome.add_done_callback(_report_abandoned)
        raise
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome


def _report_abandoned(future: asyncio.Future[Outcome]) -> None:
    if future.cancelled():
        return
    if (exc := future.exception()) is not None:
        log.error("a ballot whose request had stopped failed: %s", exc)
        return
    outcome = future.result()
    log.info("a ballot whose request had stopped was %s",
             "cast" if outcome.refusal is None else f"refused ({outcome.refusal.errors[0].code})")


async def _write_all(key: tuple[asyncio.AbstractEventLoop, int], queue: _Queue) -> None:
    """The writer: batch after batch while ballots wait, then it goes away."""
    try:
        while queue.waiting:
            taken: list[_Ballot] = []
            members: set[int] = set()
            kept: list[_Ballot] = []
            for ballot in queue.waiting:
                # A member's second ballot waits for the next batch (where it is ALREADY_VOTED).
                if len(taken) < MAX_BATCH and ballot.member_id not in members:
                    members.add(ballot.member_id)
                    taken.append(ballot)
                else:
                    kept.append(ballot)
            queue.waiting = kept
            try:
                await _write_batch(queue, taken)
            except BaseException:  # the writer stopped mid-batch: no voter of it waits forever
                for ballot in taken:
                    if not ballot.outcome.done():
                        ballot.outcome.set_exception(RuntimeError("the ballot writer stopped"))
                raise
    finally:
        queue.writer = None
        if queue.waiting:  # stopped with ballots left (the loop closing): never silently
            for ballot in queue.waiting:
                if not ballot.outcome.done():
                    ballot.outcome.set_exception(RuntimeError("the ballot writer stopped"))
            queue.waiting = []
        if _queues.get(key) is queue:
            del _queues[key]


async def _write_batch(queue: _Queue, ballots: list[_Ballot]) -> None:
    try:
        outcomes = await _commit(queue, ballots)
    except Exception:  # noqa: BLE001 - retried ballot by ballot below
        if len(ballots) == 1:
            log.exception("writing a ballot of poll %s failed", queue.poll_id)
            outcomes = None
        else:
            log.warning("a batch of %d ballots of poll %s failed; writing them one by one",
                        len(ballots), queue.poll_id, exc_info=True)
            for ballot in ballots:
                await _write_batch(queue, [ballot])
            return
    except BaseException as exc:
        for ballot in ballots:
            if not ballot.outcome.done():
                ballot.outcome.set_exception(RuntimeError(f"the ballot writer stopped: {exc!r}"))
        raise
    if outcomes is None:
        for ballot in ballots:
            if not ballot.outcome.done():
                ballot.outcome.set_exception(RuntimeError("the ballot could not be written"))
        return
    # Announced before the voters are answered, as every mutation is (resolvers/mutations.py):
    # a voter's next read, in any process, sees the vote, and the poll's channel hears of the
    # vote before the count a voter's fold publishes. Both calls are bounded and never raise;
    # `finally` answers the voters even if the writer is stopped while announcing.
    try:
        if any(o.refusal is None for o in outcomes):
            await announce_write(queue.broker)
            try:
                await queue.broker.publish(Event(channel=poll_channel(queue.poll_id), type="vote",
                                                 data={"poll": queue.poll_id}))
            except Exception:  # noqa: BLE001 - the ballots are committed; the stream catches up
                log.warning("could not publish the votes of poll %s", queue.poll_id, exc_info=True)
    finally:
        for ballot, outcome in zip(ballots, outcomes, strict=True):
            if not ballot.outcome.done():
                ballot.outcome.set_result(outcome)


class PollClosedBefore(Exception):
    """The poll closed before the batch's count: the caller rolls every participation back."""


async def do_write_ballots(poll_id: int, ballots: Sequence[tuple[int, bytes]]) -> tuple[set[int], PollTally | None]:
    """Inside the caller's transaction, ballots of distinct members (member id, sealed
    choice): the participations, then for the members who had no ballot yet (returned) the
    count and their sealed ballots; the tally after them (None when nobody was new). Raises
    PollClosedBefore when the poll's window closed (the caller must roll back)."""
    new: set[int] = set()
    postgres = sql.postgres()
    if postgres:
        members = sorted(member for member, _ in ballots)
        if len(members) > 1:  # one ballot takes its locks in this order anyway
            await sql.fetch(_LOCK_PARTICIPANTS, poll_id, members)
        rows = await sql.fetch(_TAKE_PART_POSTGRES, poll_id, members)
        new = {int(r["member_id"]) for r in rows}
        if len(members) > 1 and len(new) < len(members):
            await sql.fetch(_UNLOCK_PARTICIPANTS, poll_id, [m for m in members if m not in new])
    else:
        for member, _ in ballots:
            if await sql.fetch(_TAKE_PART_SQLITE, poll_id, member):
                new.add(member)
    if not new:
        return new, None
    cast = [choice for member, choice in ballots if member in new]
    # The sealed rows go in an order unrelated to the participations'.
    order = sorted(range(len(cast)), key=lambda _: secrets.randbits(64))
    tally = await _count(postgres, poll_id, clock.now(), [cast[n] for n in order])
    if tally is None:
        raise PollClosedBefore
    return new, tally


async def _commit(queue: _Queue, ballots: list[_Ballot]) -> list[Outcome]:
    """One transaction for the batch; each ballot's outcome."""
    poll_id = queue.poll_id
    try:
        async with atomic():
            new, tally = await do_write_ballots(poll_id, [(b.member_id, b.sealed) for b in ballots])
    except PollClosedBefore:
        closed = Refusal.of(UserErrorCode.POLL_CLOSED, "This poll has closed.", "pollId")
        # Those who had voted before are told so; the others, that it closed.
        members = [b.member_id for b in ballots]
        rows = await (sql.fetch(_VOTED_POSTGRES, poll_id, members) if sql.postgres()
                      else sql.fetch(_VOTED_SQLITE, poll_id, json.dumps(members)))
        voted = {int(r["member_id"]) for r in rows}
        return [Outcome(refusal=already_voted() if b.member_id in voted else closed) for b in ballots]
    outcomes = [Outcome(tally=tally) if b.member_id in new else Outcome(refusal=already_voted())
                for b in ballots]
    if tally is not None:
        fold = fold_for_batch(poll_id, tally.total_votes, tally.total_votes - tally.counted_votes,
                              queue.batch, len(new))
        last = max(n for n, b in enumerate(ballots) if b.member_id in new)
        outcomes[last].fold = fold
    return outcomes


async def _count(postgres: bool, poll_id: int, now: Any, sealed: list[bytes]) -> PollTally | None:
    """Count the ballots cast and store them sealed, if the poll is still open; the tally."""
    ids = [uuid.uuid4() for _ in sealed]
    rows: Sequence[Any]
    counted: Any
    if postgres:
        rows = await sql.fetch(_CAST_POSTGRES, poll_id, now, len(sealed), ids, sealed)
        if not rows:
            return None
        total, counted = rows[0]["total_votes"], rows[0]["counted_votes"]
        if rows[0]["id"] is None:
            rows = ()
    else:
        head = await sql.fetchrow(_CAST_POLL_SQLITE, poll_id, now, len(sealed))
        if head is None:
            return None
        total, counted = head["total_votes"], head["counted_votes"]
        for ballot_id, choice in zip(ids, sealed, strict=True):
            await sql.execute(_SEAL_SQLITE, str(ballot_id), poll_id, choice)
        rows = await sql.fetch(_OPTIONS_SQLITE, poll_id)
    options = [
        PollOptionRow._init_from_db(
            id=r["id"], poll_id=poll_id, position=r["position"], label=r["label"], votes=r["votes"]
        )
        for r in rows
    ]
    options.sort(key=lambda option: (option.position, option.id))
    return PollTally(int(total), options, int(counted))
