"""Polls: creating, voting with a secret ballot, closing.

Who voted (PollParticipation) is written by the voter's transaction with the choice sealed;
what was voted (PollOption.votes) moves only when a batch of sealed ballots is counted
(resolvers/tally.py), after the ballot's commit or when the poll closes (docs/adr/0009).
One ballot per member is the unique constraint on (poll, member), taken by inserting first;
the open window is re-checked by the very UPDATE that counts the ballot cast, so a poll
closing concurrently can never take one more vote. castVote's statements (fixed SQL, the
hottest write) are in resolvers/ballot.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from events.envelopes import Event, poll_channel
from models import clock
from models.accounts import Member, Role
from models.clock import as_utc
from models.notifications import NotificationKind
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from models.polls import PollParticipation
from models.polls import ResultsVisibility as ResultsVisibilityRow
from models.territories import Territory as TerritoryRow
from reads.nodes import load_row
from resolvers.ballot import do_cast_vote, fold_after
from resolvers.feed import do_add_to_feed
from resolvers.mutations import check_account_rate, mutate, run_in_transaction
from resolvers.notifications import do_notify_followers, do_notify_many
from resolvers.tally import do_fold, do_fold_after_commit, fold_at_close
from resolvers.validation import TITLE_MAX, Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.polls import (
    CastVoteInput,
    CreatePollInput,
    Poll,
    PollInput,
    PollPayload,
)
from schema.relay import decode_id_of

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
        checks.fail("Give {min} to {max} options.", "options", min=MIN_OPTIONS, max=MAX_OPTIONS)
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


async def do_close(ctx: Context, poll: PollRow, now: dt.datetime) -> None:
    """Close the poll (once), count its last sealed ballots, and tell everyone who voted
    (once): who took part is known, what they chose is not, and the notification says
    nothing of it."""
    if poll.closed_at is None:
        # A poll already past closes_at closed then, whoever notices it later.
        closed_at = min(now, as_utc(poll.closes_at))
        await PollRow.filter(id=poll.id, closed_at__isnull=True).update(closed_at=closed_at)
    # After the UPDATE above took the poll's row lock (or past closes_at): no ballot can be
    # cast any more, and every ballot cast has committed its sealed choice.
    await do_fold(ctx, fold_at_close(poll.id))
    claimed = await PollRow.filter(id=poll.id, close_notified=False).update(close_notified=True)
    if not claimed:
        return
    # Read after the UPDATE above took the poll row: every ballot counted before the
    # close has committed, and none can follow it.
    voters: list[Any] = await PollParticipation.filter(
        poll_id=poll.id, member__account__deleted_at__isnull=True
    ).values_list("member__account_id", flat=True)
    await do_notify_many(
        ctx,
        [int(account_id) for account_id in voters],
        NotificationKind.POLL_CLOSED,
        "Poll",
        poll.id,
        "The poll you voted in is closed, see its results: {title}",
        title=poll.question,
    )
    # Followers who did not vote learn of the results too (who voted is not told apart:
    # a voter who follows gets the voters' notification only).
    await do_notify_followers(
        ctx,
        NotificationKind.POLL_CLOSED,
        "Poll",
        poll.id,
        "A poll you follow is closed, see its results: {title}",
        title=poll.question,
        told={int(account_id) for account_id in voters},
    )
    ctx.queue(Event(channel=poll_channel(poll.id), type="closed", data={"poll": poll.id}))


async def do_close_due_polls(ctx: Context, now: dt.datetime | None = None) -> int:
    """Close the polls whose closesAt has passed with nobody acting: their voters get
    POLL_CLOSED and live watchers the final tally. Safe to run from every process at once
    (do_close claims each poll once). Returns how many due polls it examined."""
    now = now or clock.now()
    due = await PollRow.filter(close_notified=False, closes_at__lte=now).order_by("closes_at").limit(100)
    closed = 0
    for poll in due:

        async def work(poll: PollRow = poll) -> None:
            await do_close(ctx, poll, now)

        await run_in_transaction(ctx, work)
        closed += 1
    return closed


def poll_payload(row: PollRow | None, errors: list[UserError]) -> PollPayload:
    return PollPayload(poll=Poll.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class PollsMutation:
    @strawberry.mutation(
        description=(
            "Create a poll in a territory (its officials and admins): 2 to 20 distinct options, "
            "opening now or later, closing in the future. It is published to the feed."
        )
    )
    async def create_poll(self, info: Info[Context, None], input: CreatePollInput) -> PollPayload:
        ctx = info.context

        async def work() -> PollRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            territory = (
                await TerritoryRow.filter(id=territory_id).first() if territory_id else None
            )
            if territory is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member: Member = await ctx.check_role(territory.id, *POLL_MANAGERS)

            now = clock.now()
            checks = Checks()
            question = checks.title(input.question, "question")
            labels = check_options(checks, input.options)
            opens_at = check_window(checks, input.opens_at, input.closes_at, now)
            project_id = await check_project(ctx, checks, territory.id, input.project_id)
            checks.done()

            visibility = (
                ResultsVisibilityRow(input.results_visibility.name)
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

        return await mutate(ctx, work, poll_payload)

    @strawberry.mutation(
        description=(
            "Vote in an open poll (members; verified residents when the poll says so). One "
            "ballot per member; the ballot is secret: only that you voted is recorded."
        )
    )
    async def cast_vote(self, info: Info[Context, None], input: CastVoteInput) -> PollPayload:
        ctx = info.context
        # Keyed by account and holding a count only: nothing here names the poll or the option.
        if limited := await check_account_rate(ctx, "vote", "votes"):
            return PollPayload(poll=None, user_errors=limited)

        try:
            done = await do_cast_vote(ctx, input)
        except Refusal as refusal:
            return PollPayload(poll=None, user_errors=refusal.errors)
        tally = done.tally
        # The ballot committed (with the others of its batch); if enough are sealed now, a
        # batch is counted in a transaction of its own (never a voter's: resolvers/tally.py).
        if (fold := fold_after(done)) is not None:
            tally = await do_fold_after_commit(ctx, fold) or tally
        # The payload is built from what the transactions knew: the poll as read (its window
        # held, as the counting UPDATE proved) and the tally their RETURNING gave, as plain
        # values (no loader, no async resolver); the viewer has just voted.
        poll = Poll.from_model(done.poll)
        poll.take_tally(tally)
        poll.ready_viewer_has_voted = True
        return PollPayload(poll=poll, user_errors=[])

    @strawberry.mutation(
        description=(
            "Close a poll now (its territory's officials and admins); its results become final "
            "and everyone who voted is notified. Closing a closed poll changes nothing."
        )
    )
    async def close_poll(self, info: Info[Context, None], input: PollInput) -> PollPayload:
        ctx = info.context

        async def work() -> PollRow:
            ctx.require_account()
            poll = await check_poll(ctx, input.poll_id)
            await ctx.check_role(poll.territory_id, *POLL_MANAGERS)
            await do_close(ctx, poll, clock.now())
            return await PollRow.get(id=poll.id)

        return await mutate(ctx, work, poll_payload)
