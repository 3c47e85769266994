"""Counting sealed ballots: option counters move only by batches mixed across voters.

A voter's transaction stores the choice sealed (resolvers/ballot.py). A fold, in a
transaction of its own (or of closePoll), takes the poll's row lock, deletes a batch of
sealed ballots, opens them and adds their sum to every option row of the poll at once. So
each row version of the counters, live or dead, carries a batch's sum under the fold's
transaction id, never one voter's choice under the voter's; and the live results, read from
the counters, move by those batches only. A fold killed half-way rolls back whole: its
ballots stay sealed for the next one, never lost nor counted twice (the counters and the
deletion commit together). Reasoning: docs/adr/0009.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from access.context import Context
from access.sealing import keys_for, open_ballot
from events.envelopes import Event, poll_channel
from models.polls import PollOption as PollOptionRow
from reads import sql
from reads.loaders import PollTally
from resolvers.mutations import run_in_transaction

log = logging.getLogger("parvis.polls")

_LOCK_POSTGRES = 'SELECT "total_votes", "counted_votes" FROM "poll" WHERE "id" = $1 FOR NO KEY UPDATE'
# SQLite writes one transaction at a time: nothing to lock row by row.
_LOCK_SQLITE = 'SELECT "total_votes", "counted_votes" FROM "poll" WHERE "id" = $1'

# $1 poll, $2 how many. Sealed ballots have random ids: the lowest ids are a random batch,
# whatever the order they were cast in.
_PICK = 'SELECT "id" FROM "poll_sealed_ballot" WHERE "poll_id" = $1 ORDER BY "id" LIMIT $2'
_TAKE_POSTGRES = (
    f'WITH gone AS (DELETE FROM "poll_sealed_ballot" WHERE "id" IN ({_PICK}) RETURNING "sealed") '
    'SELECT "sealed" FROM gone'
)
_TAKE_SQLITE = f'DELETE FROM "poll_sealed_ballot" WHERE "id" IN ({_PICK}) RETURNING "sealed"'

# $1 poll, $2 ballots counted, $3 the votes to add per option position. Every option row is
# rewritten (+0 for the options nobody in the batch chose), with the poll's counted_votes.
_COUNT_POSTGRES = (
    "WITH counted AS ("
    'UPDATE "poll" SET "counted_votes" = "counted_votes" + $2 WHERE "id" = $1 '
    'RETURNING "id", "total_votes", "counted_votes"), '
    "tally AS ("
    'UPDATE "poll_option" o SET "votes" = o."votes" + COALESCE(($3::int[])[o."position" + 1], 0) '
    'FROM counted c WHERE o."poll_id" = c."id" '
    'RETURNING o."id", o."position", o."label", o."votes") '
    'SELECT c."total_votes", c."counted_votes", t."id", t."position", t."label", t."votes" '
    "FROM counted c LEFT JOIN tally t ON TRUE"
)
_COUNT_POLL_SQLITE = (
    'UPDATE "poll" SET "counted_votes" = "counted_votes" + $2 WHERE "id" = $1 '
    'RETURNING "total_votes", "counted_votes"'
)
_COUNT_OPTIONS_SQLITE = (
    'UPDATE "poll_option" SET "votes" = "votes" + '
    "COALESCE(json_extract($2, '$[' || \"position\" || ']'), 0) "
    'WHERE "poll_id" = $1 RETURNING "id", "position", "label", "votes"'
)


@dataclass(frozen=True)
class Fold:
    """A fold to run: the poll, how many sealed ballots to leave (chosen at random), and the
    fewest it may count (a fold that would count fewer does nothing)."""

    poll_id: int
    keep: int
    at_least: int


def fold_for_open_poll(poll_id: int, total: int, pending: int, batch: int) -> Fold | None:
    """The fold due after the ballot that made `total`, with `pending` sealed ballots and
    K = `batch`.

    With K > 1 a fold waits for 2K sealed ballots and counts all but K of them, chosen at
    random: every batch holds at least K ballots, and K always stay sealed, so the tail
    counted at close holds at least K too (unless the whole poll has fewer). The live
    results lag by about 2K ballots. Only every K-th ballot tries (concurrent voters would
    otherwise all queue on the poll's lock to find nothing left to fold); one that finds
    too little leaves it to the next. K = 1 counts every ballot on its own (no mixing).
    """
    k = max(batch, 1)
    keep = k if k > 1 else 0
    if total % k or pending - keep < k:
        return None
    return Fold(poll_id, keep=keep, at_least=k)


def fold_for_batch(poll_id: int, total: int, pending: int, batch: int, cast: int) -> Fold | None:
    """The fold due after a batch of `cast` ballots that made `total` (group commit,
    resolvers/ballot_writer.py): as fold_for_open_poll, where the batch "tries" when one of
    its ballots made a multiple of K."""
    k = max(batch, 1)
    keep = k if k > 1 else 0
    if total // k == (total - cast) // k or pending - keep < k:
        return None
    return Fold(poll_id, keep=keep, at_least=k)


def fold_at_close(poll_id: int) -> Fold:
    """At close, every sealed ballot left is counted."""
    return Fold(poll_id, keep=0, at_least=1)


async def do_fold(ctx: Context, fold: Fold) -> PollTally | None:
    """Count a batch of the poll's sealed ballots, inside the caller's transaction; returns
    the tally after it, or None when there was nothing (or too little) to count."""
    postgres = sql.postgres()
    locked = await sql.fetchrow(_LOCK_POSTGRES if postgres else _LOCK_SQLITE, fold.poll_id)
    if locked is None:
        return None
    batch = int(locked["total_votes"]) - int(locked["counted_votes"]) - fold.keep
    if batch < fold.at_least:
        return None
    taken = await sql.fetch(_TAKE_POSTGRES if postgres else _TAKE_SQLITE, fold.poll_id, batch)
    keys = keys_for(ctx.settings.secret)
    votes: list[int] = []
    for row in taken:
        for position in open_ballot(keys, fold.poll_id, bytes(row["sealed"])):
            votes.extend([0] * (position + 1 - len(votes)))
            votes[position] += 1
    tally = await _count(fold.poll_id, len(taken), votes)
    ctx.queue(Event(channel=poll_channel(fold.poll_id), type="tally", data={"poll": fold.poll_id}))
    return tally


async def _count(poll_id: int, ballots: int, votes: list[int]) -> PollTally:
    rows: Sequence[Any]
    if sql.postgres():
        rows = await sql.fetch(_COUNT_POSTGRES, poll_id, ballots, votes)
        head = rows[0]
        if head["id"] is None:
            rows = ()
    else:
        head = await sql.fetchrow(_COUNT_POLL_SQLITE, poll_id, ballots)
        rows = await sql.fetch(_COUNT_OPTIONS_SQLITE, poll_id, json.dumps(votes))
    options = [
        PollOptionRow._init_from_db(
            id=r["id"], poll_id=poll_id, position=r["position"], label=r["label"], votes=r["votes"]
        )
        for r in rows
    ]
    options.sort(key=lambda option: (option.position, option.id))
    return PollTally(int(head["total_votes"]), options, int(head["counted_votes"]))


async def do_fold_after_commit(ctx: Context, fold: Fold) -> PollTally | None:
    """A fold in a transaction of its own, after a ballot committed. A failure is logged and
    costs nothing: the ballots stay sealed and the next fold (or the close) counts them."""
    async def work() -> PollTally | None:
        return await do_fold(ctx, fold)

    try:
        tally, _ = await run_in_transaction(ctx, work)
    except Exception:  # noqa: BLE001 - the vote is committed; counting waits for the next fold
        log.exception("counting sealed ballots of poll %s failed; they wait for the next fold", fold.poll_id)
        return None
    return tally
