"""Polls with a secret ballot: the poll, its options, its results and the mutation inputs.

The API tells a viewer whether they voted (viewerHasVoted) and never what anyone chose:
results are counters per option, and nothing here or below links a member to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info
from tortoise.queryset import QuerySet

from access.context import Context
from models import accounts as ma
from models import polls as mp
from models.clock import as_utc, now
from reads import lists
from reads.loaders import Loaders, PollTally
from reads.nodes import load_row
from reads.paging import PageArgs
from reads.shared import AudienceReader, SharedPart
from schema.activity import Followable
from schema.errors import Refusal, UserError, UserErrorCode
from schema.permissions import Permission, check_member, permission
from schema.placement import AboutProject, InTerritory
from schema.relay import Connection, Node, encode_id, paginate_sql, register_node, with_nodes
from sharing.horizon import note_boundary, recording
from sharing.parts import Audience, Part, overlay


@strawberry.enum(description="Where a poll stands in time.")
class PollStatus(Enum):
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Not open yet: opensAt is ahead.")
    OPEN = strawberry.enum_value("OPEN", description="Members may vote.")
    CLOSED = strawberry.enum_value(
        "CLOSED", description="Closed by an official or admin, or past closesAt."
    )


@strawberry.enum(description="When a poll's per-option results are shown.")
class ResultsVisibility(Enum):
    LIVE = strawberry.enum_value("LIVE", description="Shown while the poll is open, as votes come in.")
    AFTER_CLOSE = strawberry.enum_value(
        "AFTER_CLOSE", description="Hidden until the poll is closed; only the number of ballots shows."
    )



def poll_status(row: mp.Poll, at: dt.datetime | None = None) -> PollStatus:
    """CLOSED once closed_at is set or closes_at is reached, SCHEDULED before opens_at,
    OPEN in between: a poll past closes_at is closed whether or not anyone acted."""
    at = at or now()
    if row.closed_at is not None:
        return PollStatus.CLOSED
    closes_at = as_utc(row.closes_at)
    if at >= closes_at:
        return PollStatus.CLOSED
    opens_at = as_utc(row.opens_at)
    if at < opens_at:
        note_boundary(opens_at)
        return PollStatus.SCHEDULED
    note_boundary(closes_at)
    return PollStatus.OPEN


async def note_status_boundaries(queryset: QuerySet[mp.Poll], at: dt.datetime | None = None) -> None:
    """For a cached answer filtered by status: the next instant any poll of `queryset`
    (returned or not) changes status, as the answer expires then (sharing/horizon.py)."""
    if not recording():
        return
    at = at or now()
    running = queryset.filter(closed_at__isnull=True)
    for name in ("opens_at", "closes_at"):
        nxt = await running.filter(**{f"{name}__gt": at}).order_by(name).first().values_list(name, flat=True)
        if nxt is not None:
            note_boundary(as_utc(nxt))  # type: ignore[arg-type]


def already_voted() -> Refusal:
    return Refusal.of(UserErrorCode.ALREADY_VOTED, "You already voted in this poll.", "pollId")


async def check_may_vote(ctx: Context, poll: mp.Poll, at: dt.datetime | None = None) -> ma.Member:
    """castVote's checks of the viewer and the poll's window, for a poll the viewer may see:
    a member (NOT_A_MEMBER), verified when the poll says so (NOT_VERIFIED), the poll open
    (POLL_NOT_OPEN before opensAt, POLL_CLOSED after). One ballot per member is not checked
    here: the database enforces it when the ballot is cast (resolvers/ballot.py)."""
    member = await check_member(ctx, poll.territory_id, "vote", "pollId")
    if poll.verified_only and not member.verified:
        raise Refusal.of(
            UserErrorCode.NOT_VERIFIED, "Only verified residents may vote in this poll.", "pollId"
        )
    status = poll_status(poll, at)
    if status == PollStatus.CLOSED:
        raise Refusal.of(UserErrorCode.POLL_CLOSED, "This poll has closed.", "pollId")
    if status == PollStatus.SCHEDULED:
        raise Refusal.of(UserErrorCode.POLL_NOT_OPEN, "This poll is not open yet.", "pollId")
    return member


async def check_may_vote_again(ctx: Context, poll_pk: int) -> None:
    """What castVote would answer the viewer now: its checks, then ALREADY_VOTED when they
    have a ballot in the poll (the answer the unique constraint would give)."""
    row = await load_row(ctx, "Poll", poll_pk)
    if row is None:  # hidden since, or never visible to this viewer: as check_ballot_box says
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such poll.", "pollId")
    await check_may_vote(ctx, row)
    if await ctx.loaders.viewer_voted.load(poll_pk):
        raise already_voted()


@strawberry.type(description="One of a poll's options.")
class PollOption:
    id: strawberry.ID = strawberry.field(description="The option's global id, to pass to castVote.")
    label: str = strawberry.field(description="What the option says.")
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mp.PollOption) -> PollOption:
        return cls(id=strawberry.ID(encode_id("PollOption", row.id)), label=row.label, pk=row.id)


@strawberry.type(description="How many ballots chose one option.")
class OptionResult:
    option: PollOption = strawberry.field(description="The option.")
    votes: int = strawberry.field(description="Ballots that chose this option.")
    share: float = strawberry.field(
        description="votes / countedVotes (ballots counted); 0 when none was counted yet. "
        "In a multiple-choice poll the shares may add up to more than 1."
    )


@strawberry.type(description="A poll's tally: never who chose what, only how many.")
class PollResults:
    poll: Poll = strawberry.field(description="The poll these results belong to.")
    total_votes: int = strawberry.field(
        description="Ballots cast (members who voted); always visible, moves with every vote."
    )
    counted_votes: int = strawberry.field(
        description="Ballots already in the votes per option. The others are counted in batches "
        "of at least the territory's batch size, mixed across voters, so that nobody's choice "
        "moves the results alone; all are counted when the poll closes (then final is true)."
    )
    options: list[OptionResult] | None = strawberry.field(
        description="Votes per option, in the poll's order; null while the poll's "
        "resultsVisibility is AFTER_CLOSE and it is not closed."
    )
    final: bool = strawberry.field(
        description="Whether the poll is closed and every ballot counted: these results are final."
    )

    @classmethod
    def from_tally(cls, poll: Poll, tally: PollTally) -> PollResults:
        """Results from a tally read in one statement (totals and counters agree). A poll
        closed by the clock is final once the closer counted its last sealed ballots."""
        final = poll.status == PollStatus.CLOSED and tally.counted_votes >= tally.total_votes
        options: list[OptionResult] | None = None
        if final or poll.results_visibility == ResultsVisibility.LIVE:
            total = tally.counted_votes
            options = [
                OptionResult(
                    option=PollOption.from_model(row),
                    votes=row.votes,
                    share=row.votes / total if total else 0.0,
                )
                for row in tally.options
            ]
        return cls(
            poll=poll,
            total_votes=tally.total_votes,
            counted_votes=tally.counted_votes,
            options=options,
            final=final,
        )


@strawberry.type(
    description="A poll of a territory, with a secret ballot: the API only ever tells a viewer "
    "whether they voted, never what anyone chose."
)
class Poll(InTerritory, AboutProject, Followable, Node):
    id: strawberry.ID = strawberry.field(description="The poll's global id.")
    question: str = strawberry.field(description="What the poll asks, 1 to 200 characters.")
    multiple_choice: bool = strawberry.field(
        description="Whether a ballot may choose several options (else exactly one)."
    )
    verified_only: bool = strawberry.field(description="Whether only verified residents may vote.")
    opens_at: dt.datetime = strawberry.field(description="When voting opens.")
    closes_at: dt.datetime = strawberry.field(description="When voting closes at the latest.")
    status: PollStatus = strawberry.field(description="Scheduled, open or closed, as of now.")
    results_visibility: ResultsVisibility = strawberry.field(
        description="Whether per-option results show live or only once the poll is closed."
    )
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    project_pk: strawberry.Private[int | None]
    # Set by the connection that listed the poll (see prepare_polls): plain values, so
    # these fields cost no async resolver per item. None: resolve through the loaders.
    ready_results: strawberry.Private[PollResults | None] = None
    ready_options: strawberry.Private[list[PollOption] | None] = None
    ready_viewer_has_voted: strawberry.Private[bool | None] = None

    @classmethod
    def from_model(cls, row: mp.Poll) -> Poll:
        visibility: Any = row.results_visibility
        return cls(
            id=strawberry.ID(encode_id("Poll", row.id)),
            question=row.question,
            multiple_choice=row.multiple_choice,
            verified_only=row.verified_only,
            opens_at=as_utc(row.opens_at),
            closes_at=as_utc(row.closes_at),
            status=poll_status(row),
            results_visibility=ResultsVisibility(getattr(visibility, "value", visibility)),
            pk=row.id,
            territory_pk=row.territory_id,
            project_pk=row.project_id,
        )

    def take_tally(self, tally: PollTally) -> None:
        """Make the results and options of a tally read for this poll ready values."""
        self.ready_results = PollResults.from_tally(self, tally)
        self.ready_options = [PollOption.from_model(row) for row in tally.options]

    # Sync resolvers: a ready value costs no coroutine; otherwise they hand graphql-core an
    # awaitable, which it awaits as it would an async resolver's.
    @strawberry.field(description="The options, in the order they were given.")
    def options(self, info: Info[Context, None]) -> list[PollOption]:
        if self.ready_options is not None:
            return self.ready_options
        return self._load_options(info)  # type: ignore[return-value]

    async def _load_options(self, info: Info[Context, None]) -> list[PollOption]:
        rows = await info.context.loaders.options_by_poll.load(self.pk)
        return [PollOption.from_model(row) for row in rows]

    @strawberry.field(description="The tally: ballots cast and, when visible, votes per option.")
    def results(self, info: Info[Context, None]) -> PollResults:
        if self.ready_results is not None:
            return self.ready_results
        return poll_results(info.context.loaders, self)  # type: ignore[return-value]

    @strawberry.field(description="Whether the viewer has voted in this poll (never what they chose).")
    def viewer_has_voted(self, info: Info[Context, None]) -> bool:
        if self.ready_viewer_has_voted is not None:
            return self.ready_viewer_has_voted
        return self._load_viewer_has_voted(info)  # type: ignore[return-value]

    async def _load_viewer_has_voted(self, info: Info[Context, None]) -> bool:
        return bool(await info.context.loaders.viewer_voted.load(self.pk))

    @strawberry.field(
        description="Whether castVote would take the viewer's ballot now, else the code it would answer "
        "(UNAUTHENTICATED, NOT_A_MEMBER, NOT_VERIFIED, POLL_NOT_OPEN, POLL_CLOSED, ALREADY_VOTED)."
    )
    async def viewer_can_vote(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_vote_again(info.context, self.pk))


async def take_tallies(loaders: Loaders, polls: list[Poll]) -> None:
    """What a page of polls shows per item, the same for every viewer, loaded once for the
    page: the tallies (options with their counters and the ballots cast, one statement)."""
    if not polls:
        return
    tallies = await loaders.poll_tallies.load_many([poll.pk for poll in polls])
    for poll, tally in zip(polls, tallies, strict=True):
        poll.take_tally(tally)


@dataclass(frozen=True)
class PollsPage:
    """A page of a territory's polls: the arguments of the shared part POLLS_PAGE."""

    territory: int
    status: str | None
    page: PageArgs


async def build_polls_page(reader: AudienceReader, args: PollsPage) -> Connection[Poll]:
    """The polls of a page with their tallies, for one audience (hidden polls for STAFF)."""
    staff = reader.audience is Audience.STAFF
    if args.status is not None and recording():
        # A status filter changes with the clock: the answer expires at the next change.
        visible = mp.Poll.filter(territory_id=args.territory)
        await note_status_boundaries(visible if staff else visible.filter(hidden=False))
    source = lists.polls(args.territory, staff=staff, status=args.status, now=now())
    page = await paginate_sql(source, lambda row: Poll.from_model(lists.poll_row(row)), args.page, prefix="p_")
    await take_tallies(reader.loaders, [edge.node for edge in page.edges])
    return page


POLLS_PAGE: SharedPart[PollsPage, Connection[Poll]] = Part("polls", build_polls_page)


async def with_viewer_votes(ctx: Context, page: Connection[Poll]) -> Connection[Poll]:
    """The viewer's copy of a shared page of polls, with whether they voted in each (one
    statement for the page)."""
    polls = [edge.node for edge in page.edges]
    if ctx.account is None or not polls:
        voted = [False] * len(polls)
    else:
        voted = list(await ctx.loaders.viewer_voted.load_many([poll.pk for poll in polls]))
    return with_nodes(page, [overlay(poll, ready_viewer_has_voted=bool(v)) for poll, v in zip(polls, voted, strict=True)])


async def poll_results(loaders: Loaders, poll: Poll) -> PollResults:
    """A poll's results through the request's (or the event's) loaders: a page of polls
    costs one query for all their tallies."""
    tally = await loaders.poll_tallies.load(poll.pk)
    return PollResults.from_tally(poll, tally)


@strawberry.input(description="A new poll in a territory.")
class CreatePollInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a project of that territory the poll is about."
    )
    question: str = strawberry.field(description="What the poll asks, 1 to 200 characters.")
    options: list[str] = strawberry.field(
        description="2 to 20 distinct options (ignoring case), each 1 to 200 characters."
    )
    multiple_choice: bool | None = strawberry.field(
        default=None, description="Whether a ballot may choose several options; default false."
    )
    verified_only: bool | None = strawberry.field(
        default=None, description="Whether only verified residents may vote; default false."
    )
    opens_at: dt.datetime | None = strawberry.field(
        default=None, description="When voting opens; default now."
    )
    closes_at: dt.datetime = strawberry.field(
        description="When voting closes: in the future and after opensAt."
    )
    results_visibility: ResultsVisibility | None = strawberry.field(
        default=None, description="When per-option results show; default LIVE."
    )


@strawberry.input(description="A ballot: the options chosen in a poll.")
class CastVoteInput:
    poll_id: strawberry.ID = strawberry.field(description="Global id of the poll.")
    option_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the options chosen: exactly one, or 1 to all of them "
        "when the poll is multiple-choice; no repeats."
    )


@strawberry.input(description="A poll to act on.")
class PollInput:
    poll_id: strawberry.ID = strawberry.field(description="Global id of the poll.")


@strawberry.type(description="The result of createPoll, castVote or closePoll.")
class PollPayload:
    poll: Poll | None = strawberry.field(description="The poll as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


register_node("Poll", Poll.from_model)
