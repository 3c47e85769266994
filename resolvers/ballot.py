"""castVote's statements: fixed SQL, in few round trips, who and what never in one statement.

One ballot is three statements inside the mutation's transaction: read the poll, its options
and the voter's membership; record who voted (the unique (poll, member) row takes one ballot
per member); count what was voted (the poll's total under its row lock, re-checking the open
window, and every option row rewritten). A process lets a few ballots of one poll into their
transaction at once (`ballot_gate`). Reasoning and measurements: docs/adr/0001, docs/adr/0007.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from tortoise.exceptions import IntegrityError

from access.context import STAFF_ROLES, Context
from events.envelopes import Event, poll_channel
from models import clock
from models.accounts import Member
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from reads import sql
from reads.loaders import PollTally
from resolvers.validation import Checks
from schema.errors import Refusal, UserErrorCode
from schema.polls import CastVoteInput, already_voted, check_may_vote
from schema.relay import decode_id_of


@functools.cache
def _read_sql() -> str:
    """The poll ($1), one row per option (o_id NULL when it has none), the membership of
    account $2 in the poll's territory (m_ columns NULL when none), and whether the territory
    requires a verified email (t_evr)."""
    return (
        f"SELECT {sql.columns(PollRow, 'p', 'p_')}, "
        'o."id" AS "o_id", t."email_verification_required" AS "t_evr", '
        f"{sql.columns(Member, 'm', 'm_')} "
        'FROM "poll" p JOIN "territory" t ON t."id" = p."territory_id" '
        'LEFT JOIN "poll_option" o ON o."poll_id" = p."id" '
        'LEFT JOIN "member" m ON m."territory_id" = p."territory_id" AND m."account_id" = $2 '
        'AND m."left_at" IS NULL '
        'WHERE p."id" = $1'
    )


_TAKE_PART = 'INSERT INTO "poll_participation" ("poll_id", "member_id") VALUES ($1, $2)'

# $1 poll, $2 now, $3 the chosen option ids. An option row a concurrent ballot rewrote while
# this one waited for the poll's lock is re-read at its newest version before the +1 (READ
# COMMITTED's re-check of updated rows); the `counted` row it joins is carried along as is.
_COUNT_POSTGRES = (
    "WITH counted AS ("
    'UPDATE "poll" SET "total_votes" = "total_votes" + 1 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "id", "total_votes"), '
    "tally AS ("
    'UPDATE "poll_option" o SET "votes" = CASE WHEN o."id" = ANY($3::int[]) THEN o."votes" + 1 '
    'ELSE o."votes" END '
    'FROM counted c WHERE o."poll_id" = c."id" '
    'RETURNING o."id", o."position", o."label", o."votes") '
    'SELECT c."total_votes", t."id", t."position", t."label", t."votes" '
    "FROM counted c LEFT JOIN tally t ON TRUE"
)

# SQLite. (Not on PostgreSQL: Tortoise's asyncpg client runs a statement that starts with
# UPDATE, INSERT or DELETE without fetching, so its RETURNING rows would be lost; behind
# WITH they come back.)
_COUNT_POLL_SQLITE = (
    'UPDATE "poll" SET "total_votes" = "total_votes" + 1 '
    'WHERE "id" = $1 AND "closed_at" IS NULL AND "opens_at" <= $2 AND "closes_at" > $2 '
    'RETURNING "total_votes"'
)


@functools.cache
def _count_options_sqlite(chosen: int) -> str:
    return (
        f'UPDATE "poll_option" SET "votes" = CASE WHEN "id" IN ({sql.placeholders(chosen, 2)}) '
        'THEN "votes" + 1 ELSE "votes" END WHERE "poll_id" = $1 '
        'RETURNING "id", "position", "label", "votes"'
    )


@dataclass
class BallotBox:
    """What castVote reads before a ballot: the poll and its options' ids (the voter's
    membership goes to the request's loader, where check_may_vote reads it)."""

    poll: PollRow
    options: set[int]


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
    return BallotBox(poll, {r["o_id"] for r in rows if r["o_id"] is not None})


def check_ballot(
    checks: Checks, poll: PollRow, option_ids: list[strawberry.ID], own: set[int]
) -> list[int]:
    """The chosen options: exactly one, or 1..n distinct options of this very poll."""
    if not option_ids:
        checks.fail("Choose an option.", "optionIds")
        return []
    if not poll.multiple_choice and len(option_ids) != 1:
        checks.fail("This poll takes exactly one option.", "optionIds")
        return []
    if len(option_ids) > len(own):
        checks.fail(f"Choose at most {len(own)} options.", "optionIds")
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


async def do_count_ballot(poll: PollRow, chosen: list[int], now: dt.datetime) -> PollTally:
    """Add one ballot to the poll's counters, if it is still open at this very statement;
    returns the tally right after it (ballots and counters from under the poll's row lock).

    The poll row is updated first: its row lock orders concurrent ballots of the same poll
    (no deadlock between option rows), and the WHERE re-checks the window after any
    concurrent closePoll committed (PostgreSQL re-evaluates it on the locked row).

    Every option row of the poll is rewritten, the chosen ones +1 and the others +0: on
    PostgreSQL each row version carries the id of the transaction that wrote it (xmin), the
    same as the participation row's. Touching only the chosen options would let anyone able
    to SELECT xmin match the last voter to their choice.
    """
    total: Any
    rows: Sequence[Any]
    if sql.postgres():
        rows = await sql.fetch(_COUNT_POSTGRES, poll.id, now, chosen)
        total = rows[0]["total_votes"] if rows else None
        if rows and rows[0]["id"] is None:
            rows = ()  # counted, in a poll without options
    else:
        counted = await sql.fetchrow(_COUNT_POLL_SQLITE, poll.id, now)
        total = counted["total_votes"] if counted is not None else None
        rows = await sql.fetch(_count_options_sqlite(len(chosen)), poll.id, *chosen) if counted else ()
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
    return PollTally(int(total), options)


async def do_cast_vote(ctx: Context, input: CastVoteInput) -> tuple[PollRow, PollTally]:
    """castVote's work, inside the mutation's transaction: the checks, who voted, then what
    was voted. Returns the poll as read and the tally right after the ballot."""
    box = await check_ballot_box(ctx, input.poll_id)
    poll = box.poll
    now = clock.now()
    member = await check_may_vote(ctx, poll, now)
    checks = Checks()
    chosen = check_ballot(checks, poll, input.option_ids, box.options)
    checks.done()

    await do_take_part(poll, member)
    tally = await do_count_ballot(poll, chosen, now)
    ctx.queue(Event(channel=poll_channel(poll.id), type="vote", data={"poll": poll.id}))
    return poll, tally


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
