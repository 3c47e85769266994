"""castVote's statements: fixed SQL, in few round trips, who and what never in the clear.

One ballot is one read, before any transaction: the poll, its options, its territory's K and
the voter's membership; the choice is then SEALED here (AES-GCM, random id, no timestamp) and
handed to its poll's writer (resolvers/ballot_writer.py), which writes the ballots a process
received at once in one transaction (group commit): who voted (the unique (poll, member) row
takes one ballot per member), then, under the poll's row lock that re-checks the open window,
the ballots counted cast and stored sealed. No option counter moves in a voter's
transaction: resolvers/tally.py folds sealed ballots into them later, by batches mixed
across voters. Reasoning: docs/adr/0001, 0007, 0009, 0022.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry

from access.context import STAFF_ROLES, Context
from access.sealing import keys_for, seal_ballot
from models import clock
from models.accounts import Member
from models.polls import Poll as PollRow
from reads import sql
from reads.loaders import PollTally
from resolvers.ballot_writer import cast_ballot
from resolvers.tally import Fold
from resolvers.validation import Checks
from schema.errors import Refusal, UserErrorCode
from schema.polls import CastVoteInput, check_may_vote
from schema.relay import decode_id_of
from sharing.batches import Batches


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


@functools.cache
def _boxes_sql(postgres: bool) -> str:
    """The polls of a batch ($1: their ids), one row per option (o_id NULL when none), with
    their territory's K and email rule: what _read_sql reads, without the membership."""
    return (
        f"SELECT {sql.columns(PollRow, 'p', 'p_')}, "
        'o."id" AS "o_id", o."position" AS "o_position", t."ballot_batch" AS "t_ballot_batch", '
        't."email_verification_required" AS "t_evr" '
        'FROM "poll" p JOIN "territory" t ON t."id" = p."territory_id" '
        'LEFT JOIN "poll_option" o ON o."poll_id" = p."id" '
        f'WHERE p."id" {sql.in_list("$1", "int", postgres)}'
    )


async def _read_boxes(ids: list[int]) -> dict[int, list[Any]]:
    return await sql.fetch_grouped(_boxes_sql, "p_id", ids)


# The ballots of a busy poll read it together (sharing/batches.py): each request still reads
# it after it arrived, and builds its own objects from the rows.
_BOXES: Batches[int] = Batches("ballot-boxes", _read_boxes)


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
    ids, in one statement: shared by the ballots of the moment on an HTTP request (which read
    its memberships with its token), else reading the viewer's membership too and handing it
    to the request's loader, where check_may_vote reads it (no second query)."""
    account = ctx.require_account()
    pk = decode_id_of(global_id, "Poll")
    rows: Sequence[Any] = ()
    # An HTTP request read its memberships with its token: the poll alone, with the other
    # ballots of the moment; else (a websocket's vote) the poll with the membership.
    batched = ctx.memberships is not None
    if pk is not None:
        rows = await (_BOXES.get(pk) if batched else sql.fetch(_read_sql(), pk, account.id))
    if not rows:
        raise _not_found()
    row = rows[0]
    poll = sql.model_from_row(PollRow, row, "p_")
    member: Member | None = None
    if not batched:
        if row["m_id"] is not None:
            member = sql.model_from_row(Member, row, "m_")
            member._account = account  # as the loader's select_related
        ctx.loaders.membership.prime(poll.territory_id, member)
    else:
        member = await ctx.membership(poll.territory_id)  # no statement: read with the token
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


@dataclass
class Cast:
    """A ballot cast: the poll as read, the tally right after its batch, its territory's K,
    and the fold its batch made due (given to one request of the batch)."""

    poll: PollRow
    tally: PollTally
    batch: int
    fold: Fold | None = None


async def do_cast_vote(ctx: Context, input: CastVoteInput) -> Cast:
    """castVote's work: the checks (outside any transaction: the write re-checks what can
    change), the ballot sealed, then written by its poll's writer with the other ballots
    queued at the same time (resolvers/ballot_writer.py). Raises a Refusal."""
    box = await check_ballot_box(ctx, input.poll_id)
    poll = box.poll
    member = await check_may_vote(ctx, poll, clock.now())
    checks = Checks()
    chosen = check_ballot(checks, poll, input.option_ids, box.options)
    checks.done()
    sealed = seal_ballot(keys_for(ctx.settings.secret), poll.id, [box.options[pk] for pk in chosen])
    outcome = await cast_ballot(poll.id, box.batch, ctx.broker, member.id, sealed)
    assert outcome.tally is not None  # a refusal was raised
    return Cast(poll, outcome.tally, box.batch, outcome.fold)


def fold_after(cast: Cast) -> Fold | None:
    """The fold this ballot's batch made due, if it falls to this request (resolvers/tally.py)."""
    return cast.fold


def _not_found() -> Refusal:
    return Refusal.of(UserErrorCode.NOT_FOUND, "No such poll.", "pollId")
