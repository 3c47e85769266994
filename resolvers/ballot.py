"""castVote's statements: fixed SQL, in few round trips, who and what never in the clear.

One ballot is three statements inside the mutation's transaction: read the poll, its options,
its territory's K and the voter's membership; record who voted (the unique (poll, member) row
takes one ballot per member); then, under the poll's row lock that re-checks the open window,
count one more ballot cast and store the choice SEALED (AES-GCM, random id, no timestamp).
No option counter moves in the voter's transaction: resolvers/tally.py folds sealed ballots
into them later, by batches mixed across voters. A process lets a few ballots of one poll
into their transaction at once (`ballot_gate`). Reasoning: docs/adr/0001, 0007, 0009.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from tortoise.exceptions import IntegrityError

from access.context import STAFF_ROLES, Context
from access.sealing import Keys, keys_for, seal_ballot
from events.envelopes import Event, poll_channel
from models import clock
from models.accounts import Member
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from reads import sql
from reads.loaders import PollTally
from resolvers.tally import Fold, fold_for_open_poll
from resolvers.validation import Checks
from schema.errors import Refusal, UserErrorCode
from schema.polls import CastVoteInput, already_voted, check_may_vote
from schema.relay import decode_id_of


@functools.cache
def _read_sql() -> str:
    """The poll ($1), one row per option (o_id NULL when it has none), its territory's K and
    whether it requires a verified email (t_evr), and the membership of account $2 in the
    poll's territory (m_ columns NULL when none)."""
    return (
        f"SELECT {sql.columns(PollRow, 'p', 'p_')}, "
        'o."id" AS "o_id", o."position" AS "o_position", t."ballot_batch" AS "t_ballot_batch", '
        't."email_verification_required" AS "t_evr", '
        f"{sql.columns(Member, 'm', 'm_')} "
        'FROM "poll" p JOIN "territory" t ON t."id" = p."territory_id" '
        'LEFT JOIN "poll_option" o ON o."poll_id" = p."id" '
        'LEFT JOIN "member" m ON m."territory_id" = p."territory_id" AND m."account_id" = $2 '
        'AND m."left_at" IS NULL '
        'WHERE p."id" = $1'
    )


_TAKE_PART = 'INSERT INTO "poll_participation" ("poll_id", "member_id") VALUES ($1, $2)'

# $1 poll, $2 now, $3 the sealed ballot's random id, $4 the sealed ballot. The poll's row
# lock orders the ballots of one poll and the folds (resolvers/tally.py), and its WHERE
# re-checks the window after a concurrent closePoll committed. The options are only read (as
# of the statement's snapshot): no option row version carries the voter's transaction id.
_CAST_POSTGRES = (
    "WITH cast_ AS ("
    'UPDATE "poll" SET "total_votes" = "total_votes" + 1 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "id", "total_votes", "counted_votes"), '
    "sealed AS ("
    'INSERT INTO "poll_sealed_ballot" ("id", "poll_id", "sealed") SELECT $3, "id", $4 FROM cast_) '
    'SELECT c."total_votes", c."counted_votes", o."id", o."position", o."label", o."votes" '
    'FROM cast_ c LEFT JOIN "poll_option" o ON o."poll_id" = c."id"'
)

# SQLite. (Not on PostgreSQL: Tortoise's asyncpg client runs a statement that starts with
# UPDATE, INSERT or DELETE without fetching, so its RETURNING rows would be lost; behind
# WITH they come back.)
_CAST_POLL_SQLITE = (
    'UPDATE "poll" SET "total_votes" = "total_votes" + 1 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "total_votes", "counted_votes"'
)
_SEAL_SQLITE = 'INSERT INTO "poll_sealed_ballot" ("id", "poll_id", "sealed") VALUES ($1, $2, $3)'
_OPTIONS_SQLITE = 'SELECT "id", "position", "label", "votes" FROM "poll_option" WHERE "poll_id" = $1'


@dataclass
class BallotBox:
    """What castVote reads before a ballot: the poll, its options' ids (to their positions),
    its territory's K (the voter's membership goes to the request's loader, where
    check_may_vote reads it)."""

    poll: PollRow
    options: dict[int, int]
    batch: int


async def check_ballot_box(ctx: Context, global_id: str) -> BallotBox:
    """The poll behind a global id, if the viewer may see it (NOT_FOUND), with its options'
    ids and the viewer's membership of its territory, in one statement. The membership is
    handed to the request's loader, where check_may_vote reads it (no second query)."""
    account = ctx.require_account()
    pk = decode_id_of(global_id, "Poll")
    rows = await sql.fetch(_read_sql(), pk, account.id) if pk is not None else ()
    if not rows:
        raise _not_found()
    row = rows[0]
    poll = sql.model_from_row(PollRow, row, "p_")
    member: Member | None = None
    if row["m_id"] is not None:
        member = sql.model_from_row(Member, row, "m_")
        member._account = account  # as the loader's select_related
    ctx.loaders.membership.prime(poll.territory_id, member)
    # Hidden polls: the territory's moderators and admins only (ctx.can_see).
    if poll.hidden and (member is None or member.role not in STAFF_ROLES):
        raise _not_found()
    # The territory's email rule was read in the same statement: check_may_vote asks no query.
    ctx.loaders.email_required[poll.territory_id] = bool(row["t_evr"])
    options = {r["o_id"]: r["o_position"] for r in rows if r["o_id"] is not None}
    return BallotBox(poll, options, int(row["t_ballot_batch"]))


def check_ballot(
    checks: Checks, poll: PollRow, option_ids: list[strawberry.ID], own: dict[int, int] | set[int]
) -> list[int]:
    """The chosen options: exactly one, or 1..n distinct options of this very poll."""
    if not option_ids:
        checks.fail("Choose an option.", "optionIds")
        return []
    if not poll.multiple_choice and len(option_ids) != 1:
        checks.fail("This poll takes exactly one option.", "optionIds")
        return []
    if len(option_ids) > len(own):
        checks.fail("Choose at most {max} options.", "optionIds", max=len(own))
        return []
    chosen: list[int] = []
    for index, global_id in enumerate(option_ids):
        pk = decode_id_of(global_id, "PollOption")
        if pk is None or pk not in own:
            checks.fail("No such option in this poll.", "optionIds", str(index))
        elif pk in chosen:
            checks.fail("An option may be chosen only once.", "optionIds", str(index))
        else:
            chosen.append(pk)
    return chosen


async def do_take_part(poll: PollRow, member: Member) -> None:
    """Record that the member voted in the poll (never what they chose)."""
    try:
        await sql.execute(_TAKE_PART, poll.id, member.id)
    except IntegrityError as exc:
        # The transaction is aborted on PostgreSQL: refuse at once (rolled back).
        raise already_voted() from exc


async def do_seal_ballot(keys: Keys, poll: PollRow, positions: list[int], now: dt.datetime) -> PollTally:
    """Count one more ballot cast and store its choice sealed, if the poll is still open at
    this very statement; returns the tally as of then (ballots cast, the counters as the last
    fold left them). The choice is never written in the clear by the voter's transaction."""
    sealed = seal_ballot(keys, poll.id, positions)
    ballot_id = uuid.uuid4()
    total: Any
    counted: Any = 0
    rows: Sequence[Any]
    if sql.postgres():
        rows = await sql.fetch(_CAST_POSTGRES, poll.id, now, ballot_id, sealed)
        total = rows[0]["total_votes"] if rows else None
        counted = rows[0]["counted_votes"] if rows else 0
        if rows and rows[0]["id"] is None:
            rows = ()  # cast, in a poll without options
    else:
        cast = await sql.fetchrow(_CAST_POLL_SQLITE, poll.id, now)
        total = cast["total_votes"] if cast is not None else None
        rows = ()
        if cast is not None:
            counted = cast["counted_votes"]
            await sql.execute(_SEAL_SQLITE, str(ballot_id), poll.id, sealed)
            rows = await sql.fetch(_OPTIONS_SQLITE, poll.id)
    if total is None:
        # The checks saw it open and opensAt cannot move later: it closed since.
        raise Refusal.of(UserErrorCode.POLL_CLOSED, "This poll has closed.", "pollId")
    options = [
        PollOptionRow._init_from_db(
            id=r["id"], poll_id=poll.id, position=r["position"], label=r["label"], votes=r["votes"]
        )
        for r in rows
    ]
    options.sort(key=lambda option: (option.position, option.id))
    return PollTally(int(total), options, int(counted))


@dataclass
class Cast:
    """A ballot cast: the poll as read, the tally right after it, its territory's K."""

    poll: PollRow
    tally: PollTally
    batch: int


async def do_cast_vote(ctx: Context, input: CastVoteInput) -> Cast:
    """castVote's work, inside the mutation's transaction: the checks, who voted, then the
    ballot sealed. Returns the poll as read and the tally right after the ballot."""
    box = await check_ballot_box(ctx, input.poll_id)
    poll = box.poll
    now = clock.now()
    member = await check_may_vote(ctx, poll, now)
    checks = Checks()
    chosen = check_ballot(checks, poll, input.option_ids, box.options)
    checks.done()

    await do_take_part(poll, member)
    tally = await do_seal_ballot(keys_for(ctx.settings.secret), poll, [box.options[pk] for pk in chosen], now)
    ctx.queue(Event(channel=poll_channel(poll.id), type="vote", data={"poll": poll.id}))
    return Cast(poll, tally, box.batch)


def fold_after(cast: Cast) -> Fold | None:
    """The fold this ballot's commit makes due, if any (resolvers/tally.py)."""
    total, counted = cast.tally.total_votes, cast.tally.counted_votes
    return fold_for_open_poll(cast.poll.id, total, total - counted, cast.batch)


# castVote transactions of one poll let through at once by this process; the others wait
# here, in order, for a place. A popular poll's ballots all rewrite the same rows (the poll and
# every option): past a few, more of them in flight only queue on those rows' locks inside
# PostgreSQL, and each commit then wakes every waiting backend, which on a small machine takes
# the CPU from the ballot holding the locks. Measured (32 concurrent voters on one poll,
# a pool of 20, 2 CPUs): about 400 ballots/s without this gate, 550-630/s with 3 to 8.
BALLOTS_AT_ONCE = 4


class _Gate:
    __slots__ = ("ballots", "users")

    def __init__(self) -> None:
        self.ballots = asyncio.Semaphore(BALLOTS_AT_ONCE)
        self.users = 0  # ballots inside or waiting: the gate goes away with the last one


_gates: dict[int, _Gate] = {}


@contextlib.asynccontextmanager
async def ballot_gate(poll_pk: int | None) -> AsyncIterator[None]:
    """Wait for one of BALLOTS_AT_ONCE places among this process's ballots of the poll."""
    if poll_pk is None:
        yield
        return
    gate = _gates.get(poll_pk)
    if gate is None:
        gate = _gates[poll_pk] = _Gate()
    gate.users += 1
    try:
        async with gate.ballots:
            yield
    finally:
        gate.users -= 1
        if not gate.users:
            del _gates[poll_pk]


def _not_found() -> Refusal:
    return Refusal.of(UserErrorCode.NOT_FOUND, "No such poll.", "pollId")
