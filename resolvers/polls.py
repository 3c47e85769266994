"""Polls: creating, voting with a secret ballot, closing.

Who voted (PollParticipation) and what was voted (PollOption.votes, Poll.total_votes)
are written in one transaction but into rows that share nothing: no ballot row, no id,
no timestamp. One ballot per member is the unique constraint on (poll, member), taken
by inserting first; the open window is re-checked by the very UPDATE that counts the
ballot, so a poll closing concurrently can never take one more vote.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info
from tortoise.connection import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models.accounts import Member, Role
from models.notifications import NotificationKind
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from models.polls import PollParticipation
from models.polls import ResultsVisibility as ResultsVisibilityRow
from models.territories import Territory as TerritoryRow
from resolvers.context import Context
from resolvers.feed import do_add_to_feed
from resolvers.loaders import PollTally
from resolvers.nodes import load_row
from resolvers.notifications import do_notify_many
from resolvers.ratelimit import check_account_rate
from resolvers.transactions import run_in_transaction
from resolvers.validation import TITLE_MAX, Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.polls import (
    CastVoteInput,
    CreatePollInput,
    Poll,
    PollInput,
    PollPayload,
    PollStatus,
    as_utc,
    poll_status,
)
from schema.relay import decode_id_of
from subscriptions.events import Event, poll_channel

OPTION_TABLE = PollOptionRow._meta.db_table
POLL_TABLE = PollRow._meta.db_table
MIN_OPTIONS = 2
MAX_OPTIONS = 20
POLL_MANAGERS = (Role.OFFICIAL, Role.ADMIN)


async def check_poll(ctx: Context, global_id: str) -> PollRow:
    """The poll behind a global id, if the viewer may see it (hidden polls: staff only)."""
    pk = decode_id_of(global_id, "Poll")
    row = await PollRow.filter(id=pk).first() if pk is not None else None
    if row is None or not await ctx.can_see(row):
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such poll.", "pollId")
    return row


def check_options(checks: Checks, labels: list[str]) -> list[str]:
    """2 to 20 trimmed labels of 1 to 200 characters, distinct ignoring case."""
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        checks.fail(f"Give {MIN_OPTIONS} to {MAX_OPTIONS} options.", "options")
        if len(labels) > MAX_OPTIONS:
            return []  # one error for the list, not one per surplus label
    cleaned: list[str] = []
    seen: set[str] = set()
    for index, label in enumerate(labels):
        before = len(checks.errors)
        text = checks.text(label, "options", str(index), max_length=TITLE_MAX)
        if len(checks.errors) == before:
            key = text.casefold()
            if key in seen:
                checks.fail("Options must differ from each other.", "options", str(index))
            seen.add(key)
        cleaned.append(text)
    return cleaned


def check_window(
    checks: Checks, opens_at: dt.datetime | None, closes_at: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """opensAt (default now) and a closesAt in the future, after opensAt."""
    opens = as_utc(opens_at) if opens_at is not None else now
    closes = as_utc(closes_at)
    if closes <= now:
        checks.fail("Must be in the future.", "closesAt")
    elif closes <= opens:
        checks.fail("Must be after opensAt.", "closesAt")
    return opens


async def check_project(
    ctx: Context, checks: Checks, territory_id: int, global_id: str | None
) -> int | None:
    """The pk of a visible project of the same territory, else a NOT_FOUND error."""
    if global_id is None:
        return None
    pk = decode_id_of(global_id, "Project")
    row = await load_row(ctx, "Project", pk) if pk is not None else None
    if row is None or row.territory_id != territory_id:
        checks.errors.append(
            UserError(
                field=["input", "projectId"],
                message="No such project in this territory.",
                code=UserErrorCode.NOT_FOUND,
            )
        )
        return None
    return int(row.id)


async def check_poll_and_options(ctx: Context, global_id: str) -> tuple[PollRow, set[int]]:
    """check_poll and the ids of the poll's options, in one statement (options joined with
    their poll) when it has options, as every poll created through the API has."""
    pk = decode_id_of(global_id, "Poll")
    rows = await PollOptionRow.filter(poll_id=pk).select_related("poll") if pk is not None else []
    if not rows:
        return await check_poll(ctx, global_id), set()
    poll = rows[0].poll
    if not await ctx.can_see(poll):
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such poll.", "pollId")
    return poll, {row.id for row in rows}


async def check_ballot(
    checks: Checks, poll: PollRow, option_ids: list[strawberry.ID], own: set[int] | None = None
) -> list[int]:
    """The chosen options: exactly one, or 1..n distinct options of this very poll."""
    if not option_ids:
        checks.fail("Choose an option.", "optionIds")
        return []
    if not poll.multiple_choice and len(option_ids) != 1:
        checks.fail("This poll takes exactly one option.", "optionIds")
        return []
    if own is None:
        own = set(await PollOptionRow.filter(poll_id=poll.id).values_list("id", flat=True))
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


async def do_count_ballot(poll: PollRow, chosen: list[int], now: dt.datetime) -> PollTally:
    """Add one ballot to the poll's counters, if it is still open at this very statement;
    returns the tally right after it (ballots and counters from under the poll's row lock).

    The poll row is updated first: its row lock orders concurrent ballots of the same
    poll (no deadlock between option rows), and the WHERE re-checks the window after
    any concurrent closePoll committed (PostgreSQL re-evaluates it on the locked row).
    """
    counted = await PollRow.filter(
        id=poll.id, closed_at__isnull=True, opens_at__lte=now, closes_at__gt=now
    ).update(total_votes=F("total_votes") + 1)
    if not counted:
        raise Refusal.of(UserErrorCode.POLL_NOT_OPEN, "This poll is not open.", "pollId")
    # Every option row of the poll is rewritten, the chosen ones +1 and the others +0:
    # on PostgreSQL each row version carries the id of the transaction that wrote it
    # (xmin), the same as the participation row's. Touching only the chosen options
    # would let anyone able to SELECT xmin match the last voter to their choice.
    # RETURNING gives the new counters and, through the subquery (which sees this
    # transaction's own UPDATE above, and nobody else's since we hold the poll's row
    # lock), the new total: the payload needs no further read.
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    mark = (lambda n: f"${n}") if postgres else (lambda n: "?")
    # Parameters in the order they appear (SQLite's `?` are positional).
    n = len(chosen)
    chosen_marks = ", ".join(mark(i + 1) for i in range(n))
    rows = await conn.execute_query_dict(
        f'UPDATE "{OPTION_TABLE}" SET "votes" = CASE WHEN "id" IN ({chosen_marks}) THEN "votes" + 1 '
        f'ELSE "votes" END WHERE "poll_id" = {mark(n + 1)} RETURNING "id", "position", "label", "votes", '
        f'(SELECT "total_votes" FROM "{POLL_TABLE}" WHERE "id" = {mark(n + 2)}) AS "poll_total"',
        [*chosen, poll.id, poll.id],
    )
    rows.sort(key=lambda r: (r["position"], r["id"]))
    options = [
        PollOptionRow(id=r["id"], poll_id=poll.id, position=r["position"], label=r["label"], votes=r["votes"])
        for r in rows
    ]
    return PollTally(int(rows[0]["poll_total"]) if rows else 0, options)


async def do_close(ctx: Context, poll: PollRow, now: dt.datetime) -> None:
    """Close the poll (once) and tell everyone who voted (once): who took part is known,
    what they chose is not, and the notification says nothing of it."""
    if poll.closed_at is None:
        # A poll already past closes_at closed then, whoever notices it later.
        closed_at = min(now, as_utc(poll.closes_at))
        await PollRow.filter(id=poll.id, closed_at__isnull=True).update(closed_at=closed_at)
    claimed = await PollRow.filter(id=poll.id, close_notified=False).update(close_notified=True)
    if not claimed:
        return
    # Read after the UPDATE above took the poll row: every ballot counted before the
    # close has committed, and none can follow it.
    voters = await PollParticipation.filter(
        poll_id=poll.id, member__account__deleted_at__isnull=True
    ).values_list("member__account_id", flat=True)
    await do_notify_many(
        ctx,
        [int(account_id) for account_id in voters],
        NotificationKind.POLL_CLOSED,
        "Poll",
        poll.id,
        f"The poll you voted in is closed, see its results: {poll.question}",
    )
    ctx.queue(Event(channel=poll_channel(poll.id), type="closed", data={"poll": poll.id}))


async def do_close_due_polls(ctx: Context, now: dt.datetime | None = None) -> int:
    """Close the polls whose closesAt has passed with nobody acting: their voters get
    POLL_CLOSED and live watchers the final tally. Safe to run from every process at once
    (do_close claims each poll once). Returns how many due polls it examined."""
    now = now or dt.datetime.now(dt.UTC)
    due = await PollRow.filter(close_notified=False, closes_at__lte=now).order_by("closes_at").limit(100)
    closed = 0
    for poll in due:

        async def work(poll: PollRow = poll) -> None:
            await do_close(ctx, poll, now)

        await run_in_transaction(ctx, work)
        closed += 1
    return closed


@strawberry.type
class PollsMutation:
    @strawberry.mutation(
        description=(
            "Create a poll in a territory (its officials and admins): 2 to 20 distinct options, "
            "opening now or later, closing in the future. It is published to the feed."
        )
    )
    async def create_poll(self, info: Info, input: CreatePollInput) -> PollPayload:
        ctx: Context = info.context

        async def work() -> PollRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            territory = (
                await TerritoryRow.filter(id=territory_id).first() if territory_id else None
            )
            if territory is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member: Member = await ctx.check_role(territory.id, *POLL_MANAGERS)

            now = dt.datetime.now(dt.UTC)
            checks = Checks()
            question = checks.title(input.question, "question")
            labels = check_options(checks, input.options)
            opens_at = check_window(checks, input.opens_at, input.closes_at, now)
            project_id = await check_project(ctx, checks, territory.id, input.project_id)
            checks.done()

            visibility = (
                ResultsVisibilityRow(input.results_visibility.value)
                if input.results_visibility is not None
                else ResultsVisibilityRow.LIVE
            )
            poll = await PollRow.create(
                territory_id=territory.id,
                project_id=project_id,
                created_by_id=member.id,
                question=question,
                multiple_choice=bool(input.multiple_choice),
                verified_only=bool(input.verified_only),
                opens_at=opens_at,
                closes_at=as_utc(input.closes_at),
                results_visibility=visibility,
            )
            await PollOptionRow.bulk_create(
                [
                    PollOptionRow(poll_id=poll.id, position=position, label=label)
                    for position, label in enumerate(labels)
                ]
            )
            await do_add_to_feed(ctx, territory.id, "Poll", poll.id)
            return poll

        row, errors = await run_in_transaction(ctx, work)
        return PollPayload(poll=Poll.from_model(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        description=(
            "Vote in an open poll (members; verified residents when the poll says so). One "
            "ballot per member; the ballot is secret: only that you voted is recorded."
        )
    )
    async def cast_vote(self, info: Info, input: CastVoteInput) -> PollPayload:
        ctx: Context = info.context
        # Keyed by account and holding a count only: nothing here names the poll or the option.
        if limited := await check_account_rate(ctx, "vote", "votes"):
            return PollPayload(poll=None, user_errors=limited)

        async def work() -> PollRow:
            ctx.require_account()
            poll, own = await check_poll_and_options(ctx, input.poll_id)
            member = await ctx.check_member(poll.territory_id, "vote", "pollId")
            if poll.verified_only and not member.verified:
                raise Refusal.of(
                    UserErrorCode.NOT_VERIFIED, "Only verified residents may vote in this poll.",
                    "pollId",
                )
            now = dt.datetime.now(dt.UTC)
            if poll_status(poll, now) != PollStatus.OPEN:
                raise Refusal.of(UserErrorCode.POLL_NOT_OPEN, "This poll is not open.", "pollId")
            checks = Checks()
            chosen = await check_ballot(checks, poll, input.option_ids, own)
            checks.done()

            try:
                await PollParticipation.create(poll_id=poll.id, member_id=member.id)
            except IntegrityError as exc:
                # The transaction is aborted on PostgreSQL: refuse at once (rolled back).
                raise Refusal.of(
                    UserErrorCode.ALREADY_VOTED, "You already voted in this poll.", "pollId"
                ) from exc
            tally = await do_count_ballot(poll, chosen, now)
            ctx.queue(Event(channel=poll_channel(poll.id), type="vote", data={"poll": poll.id}))
            # The payload is built from what this transaction knows: the poll as read (its
            # window held, as the counting UPDATE proved) and the tally RETURNING gave.
            ctx.loaders.poll_tallies.prime(poll.id, tally)
            ctx.loaders.options_by_poll.prime(poll.id, tally.options)
            return poll

        row, errors = await run_in_transaction(ctx, work)
        return PollPayload(poll=Poll.from_model(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        description=(
            "Close a poll now (its territory's officials and admins); its results become final "
            "and everyone who voted is notified. Closing a closed poll changes nothing."
        )
    )
    async def close_poll(self, info: Info, input: PollInput) -> PollPayload:
        ctx: Context = info.context

        async def work() -> PollRow:
            ctx.require_account()
            poll = await check_poll(ctx, input.poll_id)
            await ctx.check_role(poll.territory_id, *POLL_MANAGERS)
            await do_close(ctx, poll, dt.datetime.now(dt.UTC))
            return await PollRow.get(id=poll.id)

        row, errors = await run_in_transaction(ctx, work)
        return PollPayload(poll=Poll.from_model(row) if row else None, user_errors=errors)
