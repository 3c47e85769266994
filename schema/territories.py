"""A territory and what hangs off it: officials, members, content lists, feed, stats."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from access.context import Context
from models import accounts as ma
from models import consultations as mc
from models import ideas as mi
from models import news as mn
from models import projects as mpr
from models import questions as mq
from models import territories as mt
from models.clock import as_utc
from models.moderation import Report as ReportRow
from reads.lists import Narrowing
from reads.nodes import sees
from reads.paging import PageArgs, SortKey, bad_argument
from reads.shared import AudienceReader, SharedPart
from reads.stats import Figures, territory_figures
from schema.accounts import Member, Official, Role, member_from_model, official_from_model
from schema.authorship import check_may_moderate
from schema.consultations.types import Consultation, ConsultationStatus
from schema.errors import UserError
from schema.feed import FeedItemConnection, feed_page
from schema.ideas import IDEAS_PAGE, Idea, IdeaOrder, IdeasPage, IdeaStatus, with_viewer_supports
from schema.moderation import Report
from schema.news import NewsPost
from schema.permissions import Permission, permission
from schema.polls import POLLS_PAGE, Poll, PollsPage, PollStatus, with_viewer_votes
from schema.projects import Project
from schema.questions import QUESTIONS_PAGE, Question, QuestionOrder, QuestionsPage, QuestionStatus
from schema.relay import Connection, Node, decode_id_of, encode_id, paginate, register_node
from sharing.parts import Part

MEMBER_ORDER = (SortKey("id", descending=False),)

AUTHOR_ID = strawberry.argument(description="Only those written by this member (a Member's global id).")
SINCE = strawberry.argument(description="Only those created at or after this instant.")
UNTIL = strawberry.argument(description="Only those created before this instant.")


def filter_pk(global_id: strawberry.ID | None, kind: str, argument: str) -> int | None:
    """The pk a filter argument names: BAD_USER_INPUT when it is not an id of `kind` (an id of
    that kind naming nothing simply matches nothing)."""
    if global_id is None:
        return None
    pk = decode_id_of(global_id, kind)
    if pk is None:
        raise bad_argument("`{argument}` is not the global id of a {kind}.", argument=argument, kind=kind)
    return pk


def instant(value: dt.datetime | None, argument: str) -> dt.datetime | None:
    """A time filter in UTC (one without an offset is taken as UTC)."""
    if value is None:
        return None
    try:
        return as_utc(value)
    except OverflowError as exc:  # year 1 or 9999 moved across an offset
        raise bad_argument("`{argument}` is out of range.", argument=argument) from exc


def narrowing_of(author_id: strawberry.ID | None, since: dt.datetime | None, until: dt.datetime | None,
                 project_id: strawberry.ID | None = None) -> Narrowing:
    return Narrowing(
        author=filter_pk(author_id, "Member", "authorId"),
        project=filter_pk(project_id, "Project", "projectId"),
        since=instant(since, "since"),
        until=instant(until, "until"),
    )


@strawberry.type(description="A town or agglomeration with its participation charter.")
class Territory(Node):
    id: strawberry.ID = strawberry.field(description="The territory's global id.")
    slug: str = strawberry.field(description="Short unique name used in addresses, e.g. carcassonne-agglo.")
    name: str = strawberry.field(description="The territory's name.")
    population: int | None = strawberry.field(description="Number of inhabitants, when known.")
    charter: str | None = strawberry.field(description="The participation charter everyone is held to.")
    reply_deadline_days: int = strawberry.field(
        description="The charter's promise: officials reply within this many days."
    )
    email_verification_required: bool = strawberry.field(
        description="Whether members must confirm their email before they write (they may still read and join)."
    )
    updated_at: dt.datetime = strawberry.field(
        description="When an admin last changed its settings (updateTerritory); its creation until then."
    )
    pk: strawberry.Private[int]
    upload_limit: strawberry.Private[int] = 20 * 1024 * 1024

    @strawberry.field(
        description="The largest document file the territory accepts, in bytes (within the deployment's ceiling)."
    )
    def upload_max_bytes(self, info: Info[Context, None]) -> int:
        ceiling: int = getattr(info.context.settings, "upload_max_bytes", self.upload_limit)
        return min(self.upload_limit, ceiling)

    @classmethod
    def from_model(cls, row: mt.Territory) -> Territory:
        return cls(
            id=strawberry.ID(encode_id("Territory", row.id)),
            slug=row.slug,
            name=row.name,
            population=row.population,
            charter=row.charter,
            reply_deadline_days=row.reply_deadline_days,
            email_verification_required=row.email_verification_required,
            updated_at=as_utc(row.updated_at or row.created_at),
            pk=row.id,
            upload_limit=row.upload_max_bytes,
        )

    @strawberry.field(description="The territory's officials, in order of appointment.")
    async def officials(
        self, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Official]:
        query = ma.Member.filter(
            territory_id=self.pk, role=ma.Role.OFFICIAL, left_at__isnull=True
        ).select_related("account")
        return await paginate(
            query, official_from_model, first=first, after=after, last=last, before=before, order=MEMBER_ORDER,
        )

    @strawberry.field(description="Members of the territory, oldest first. Moderators and admins only.")
    async def members(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        role: Role | None = None, verified: bool | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Member]:
        await info.context.check_staff(self.pk)
        query = ma.Member.filter(territory_id=self.pk, left_at__isnull=True).select_related("account")
        if role is not None:
            query = query.filter(role=role.name)
        if verified is not None:
            query = query.filter(verified=verified)
        return await paginate(
            query, member_from_model, first=first, after=after, last=last, before=before,
            order=MEMBER_ORDER,
        )

    @strawberry.field(description="The viewer's membership of the territory; null when anonymous or not a member.")
    async def viewer_membership(self, info: Info[Context, None]) -> Member | None:
        # Read per request from the viewer's loader: the territory itself may be a shared part.
        row = await info.context.membership(self.pk)
        return member_from_model(row) if row is not None else None

    @strawberry.field(
        description="Whether moderateContent would take the viewer's decisions on this territory's "
        "reports now (and reports, hidden content are shown to them), else why not: UNAUTHENTICATED, "
        "NOT_A_MODERATOR (the reason of the FORBIDDEN the mutation answers)."
    )
    async def viewer_can_moderate(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_moderate(info.context, self.pk))

    @strawberry.field(
        description="The question with this human reference (Q-2026-0042, case-insensitive); null when "
        "there is none, or when it is hidden from the viewer (moderated or deleted content, as anywhere)."
    )
    async def question_by_reference(
        self, info: Info[Context, None],
        reference: Annotated[str, strawberry.argument(description="A question's reference, e.g. Q-2026-0042.")],
    ) -> Question | None:
        row = await by_reference(info.context, mq.Question, "Question", self.pk, reference)
        return Question.from_model(row) if row is not None else None

    @strawberry.field(
        description="The idea with this human reference (I-2026-0007, case-insensitive); null when there "
        "is none, or when it is hidden from the viewer (moderated or deleted content, as anywhere)."
    )
    async def idea_by_reference(
        self, info: Info[Context, None],
        reference: Annotated[str, strawberry.argument(description="An idea's reference, e.g. I-2026-0007.")],
    ) -> Idea | None:
        row = await by_reference(info.context, mi.Idea, "Idea", self.pk, reference)
        return Idea.from_model(row) if row is not None else None

    @strawberry.field(
        description="Questions asked in the territory, newest first unless orderBy says otherwise, "
        "filtered by status, official, author and creation time. Cursors belong to their order: one used "
        "with another orderBy is BAD_USER_INPUT, as is an id argument that is not an id of its kind."
    )
    async def questions(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        status: QuestionStatus | None = None,
        official_id: strawberry.ID | None = None,
        last: int | None = None, before: str | None = None,
        order_by: Annotated[
            QuestionOrder | None, strawberry.argument(description="NEWEST (default), OLDEST or MOST_OVERDUE.")
        ] = None,
        author_id: Annotated[strawberry.ID | None, AUTHOR_ID] = None,
        since: Annotated[dt.datetime | None, SINCE] = None,
        until: Annotated[dt.datetime | None, UNTIL] = None,
    ) -> Connection[Question]:
        official = filter_pk(official_id, "Member", "officialId")
        kind = status.name if status is not None else None
        order = (order_by or QuestionOrder.NEWEST).name
        narrowing = narrowing_of(author_id, since, until)
        args = QuestionsPage(self.pk, kind, official, PageArgs(first, after, last, before), order, narrowing)
        return await info.context.shared(QUESTIONS_PAGE, self.pk, args)

    @strawberry.field(
        description="Ideas proposed in the territory, newest or most supported first, filtered by status, "
        "author, project and creation time; an id argument that is not an id of its kind is BAD_USER_INPUT."
    )
    async def ideas(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        status: IdeaStatus | None = None,
        order_by: IdeaOrder | None = None,
        last: int | None = None, before: str | None = None,
        author_id: Annotated[strawberry.ID | None, AUTHOR_ID] = None,
        project_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only those about this project (a Project's global id)."),
        ] = None,
        since: Annotated[dt.datetime | None, SINCE] = None,
        until: Annotated[dt.datetime | None, UNTIL] = None,
    ) -> Connection[Idea]:
        kind = status.name if status is not None else None
        narrowing = narrowing_of(author_id, since, until, project_id)
        args = IdeasPage(
            self.pk, kind, order_by == IdeaOrder.MOST_SUPPORTED, PageArgs(first, after, last, before), narrowing
        )
        return await with_viewer_supports(info.context, await info.context.shared(IDEAS_PAGE, self.pk, args))

    @strawberry.field(description="Projects of the territory, newest first.")
    async def projects(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Project]:
        query = await info.context.visible(mpr.Project.filter(territory_id=self.pk), self.pk)
        return await paginate(
            query, Project.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Polls of the territory, newest first.")
    async def polls(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        status: PollStatus | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Poll]:
        kind = status.name if status is not None else None
        args = PollsPage(self.pk, kind, PageArgs(first, after, last, before))
        return await with_viewer_votes(info.context, await info.context.shared(POLLS_PAGE, self.pk, args))

    @strawberry.field(
        description="Consultations of the territory, newest first; drafts only for its officials, "
        "moderators and admins."
    )
    async def consultations(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        status: ConsultationStatus | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Consultation]:
        query = mc.Consultation.filter(territory_id=self.pk)
        if not await info.context.sees_drafts(self.pk):
            query = query.exclude(status=mc.ConsultationStatus.DRAFT)
        if status is not None:
            query = query.filter(status=mc.ConsultationStatus(status.name))
        return await paginate(
            query, Consultation.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="News posts of the territory, newest first.")
    async def news(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[NewsPost]:
        query = await info.context.visible(mn.NewsPost.filter(territory_id=self.pk), self.pk)
        return await paginate(
            query, NewsPost.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description=(
            "What the territory's feed shows, newest first: news posts, new polls, official "
            "replies, new projects and ideas that reached REALIZED."
        )
    )
    async def feed(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> FeedItemConnection:
        return await feed_page(info, self.pk, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Reports of content, newest first. Moderators and admins only.")
    async def reports(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Report]:
        await info.context.check_staff(self.pk)
        return await paginate(
            ReportRow.filter(territory_id=self.pk), Report.from_model,
            first=first, after=after, last=last, before=before,
        )

    @strawberry.field(description="Participation figures: who takes part, how officials keep the charter.")
    async def stats(self, info: Info[Context, None]) -> TerritoryStats:
        # The same for every reader (PUBLIC, as the feed): a shared part, read once per write.
        return await info.context.shared(STATS, None, self.pk)


REFERENCE_MAX = 32
# What a reference looks like (models/references.py format_reference): anything else, a NUL or a
# lone surrogate among them (the database refuses both), is no reference.
REFERENCE = re.compile(r"[A-Z]-[0-9]{4}-[0-9]{4,}", re.ASCII)


async def by_reference(ctx: Context, model: type[Any], kind: str, territory_pk: int, reference: str) -> Any:
    """The row of `kind` with this reference in the territory, if the viewer may see it (the
    one visibility rule: a hidden or deleted item answers null, as an unknown reference)."""
    wanted = reference.strip().upper()
    if len(wanted) > REFERENCE_MAX or not REFERENCE.fullmatch(wanted):
        return None
    row = await model.filter(territory_id=territory_pk, reference=wanted).first()
    if row is None or not await sees(ctx, kind, row):
        return None
    return row


@strawberry.type(description="Participation in a territory and how its officials keep the charter.")
class TerritoryStats:
    participants: int = strawberry.field(
        description="Members who asked, proposed, supported, voted or commented."
    )
    reach: float | None = strawberry.field(
        description="participants / population; null without a population."
    )
    questions_asked: int = strawberry.field(description="Questions asked.")
    questions_answered: int = strawberry.field(description="Questions that got their reply.")
    questions_overdue: int = strawberry.field(description="Questions still open past their due date.")
    on_time_reply_rate: float | None = strawberry.field(
        description="Replies given by the due date / replies; null before the first reply."
    )
    median_reply_seconds: int | None = strawberry.field(
        description="Median time from question to reply, in seconds; null before the first reply."
    )
    ideas_proposed: int = strawberry.field(description="Ideas proposed.")
    ideas_realized: int = strawberry.field(description="Ideas that reached REALIZED.")
    polls_held: int = strawberry.field(description="Polls that have opened.")
    votes_cast: int = strawberry.field(description="Ballots cast in all polls.")

    @classmethod
    async def compute(cls, territory_id: int) -> TerritoryStats:
        return cls.of(await territory_figures(territory_id))

    @classmethod
    def of(cls, figures: Figures) -> TerritoryStats:
        return cls(**{name: getattr(figures, name) for name in Figures.__dataclass_fields__})


async def build_stats(reader: AudienceReader, territory_id: int) -> TerritoryStats:
    """A territory's figures: public, the same for every audience."""
    return await TerritoryStats.compute(territory_id)


STATS: SharedPart[int, TerritoryStats] = Part("stats", build_stats)


@strawberry.input(description="Changes to a territory's settings; omitted fields stay as they are.")
class UpdateTerritoryInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")
    name: str | None = strawberry.field(default=None, description="New name, 1 to 200 characters.")
    population: int | None = strawberry.field(default=None, description="Number of inhabitants, 0 or more.")
    charter: str | None = strawberry.field(default=None, description="The participation charter.")
    reply_deadline_days: int | None = strawberry.field(
        default=None, description="Days officials have to reply, 1 to 365; applies to new questions."
    )
    email_verification_required: bool | None = strawberry.field(
        default=None, description="Whether members must confirm their email before they write."
    )
    upload_max_bytes: int | None = strawberry.field(
        default=None,
        description="The largest document file members may upload, in bytes: 1,024 up to the deployment's ceiling "
        "(PARVIS_UPLOAD_MAX_BYTES).",
    )


@strawberry.type(description="The result of updateTerritory.")
class TerritoryPayload:
    territory: Territory | None = strawberry.field(description="The territory as it now stands.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")


register_node("Territory", Territory.from_model)
