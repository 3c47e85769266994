"""A territory and what hangs off it: officials, members, content lists, feed, stats."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from models import accounts as ma
from models import comments as mc
from models import ideas as mi
from models import news as mn
from models import polls as mp
from models import projects as mpr
from models import questions as mq
from models import territories as mt
from models.moderation import Report as ReportRow
from resolvers.page_cache import shared_page
from schema.accounts import Member, Official, Role, member_from_model
from schema.errors import UserError
from schema.horizon import not_reusable
from schema.relay import Connection, Node, SortKey, encode_id, paginate, paginate_sql

if TYPE_CHECKING:
    from schema.feed import FeedItemConnection
    from schema.ideas import Idea, IdeaOrder, IdeaStatus
    from schema.moderation import Report
    from schema.news import NewsPost
    from schema.polls import Poll, PollStatus
    from schema.projects import Project
    from schema.questions import Question, QuestionStatus

MEMBER_ORDER = (SortKey("id", descending=False),)


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
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mt.Territory) -> Territory:
        return cls(
            id=strawberry.ID(encode_id("Territory", row.id)),
            slug=row.slug,
            name=row.name,
            population=row.population,
            charter=row.charter,
            reply_deadline_days=row.reply_deadline_days,
            pk=row.id,
        )

    @strawberry.field(description="The territory's officials, in order of appointment.")
    async def officials(
        self, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Official]:
        query = ma.Member.filter(territory_id=self.pk, role=ma.Role.OFFICIAL).select_related("account")
        return await paginate(
            query, member_from_model, first=first, after=after, last=last, before=before,
            order=MEMBER_ORDER,
        )  # type: ignore[arg-type]

    @strawberry.field(description="Members of the territory, oldest first. Moderators and admins only.")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None,
        role: Role | None = None, verified: bool | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Member]:
        await info.context.check_staff(self.pk)
        query = ma.Member.filter(territory_id=self.pk).select_related("account")
        if role is not None:
            query = query.filter(role=role.value)
        if verified is not None:
            query = query.filter(verified=verified)
        return await paginate(
            query, member_from_model, first=first, after=after, last=last, before=before,
            order=MEMBER_ORDER,
        )  # type: ignore[arg-type]

    @strawberry.field(description="Questions asked in the territory, newest first.")
    async def questions(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: Annotated[QuestionStatus, strawberry.lazy("schema.questions")] | None = None,
        official_id: strawberry.ID | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Question, strawberry.lazy("schema.questions")]]:
        from schema import lists
        from schema.questions import Question, prepare_questions
        from schema.relay import decode_id_of

        staff = await info.context.is_staff(self.pk)
        official = (decode_id_of(official_id, "Member") or 0) if official_id is not None else None
        kind = status.value if status is not None else None

        async def build() -> Connection[Question]:
            source = lists.questions(self.pk, staff=staff, status=kind, official_id=official)
            page = await paginate_sql(
                source, lambda row: Question.from_model_with_people(lists.question_row(row)),
                first=first, after=after, last=last, before=before, prefix="q_",
            )
            await prepare_questions(info, [edge.node for edge in page.edges])
            return page

        key = ("questions", self.pk, staff, kind, official, first, after, last, before)
        return await shared_page(info.context, key, build)

    @strawberry.field(description="Ideas proposed in the territory, newest or most supported first.")
    async def ideas(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: Annotated[IdeaStatus, strawberry.lazy("schema.ideas")] | None = None,
        order_by: Annotated[IdeaOrder, strawberry.lazy("schema.ideas")] | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Idea, strawberry.lazy("schema.ideas")]]:
        from schema import lists
        from schema.ideas import Idea, IdeaOrder, prepare_ideas

        staff = await info.context.is_staff(self.pk)
        kind = status.value if status is not None else None
        order = (
            (SortKey("support_count"), SortKey("id"))
            if order_by == IdeaOrder.MOST_SUPPORTED
            else (SortKey("id"),)
        )

        async def build() -> Connection[Idea]:
            return await paginate_sql(
                lists.ideas(self.pk, staff=staff, status=kind),
                lambda row: Idea.from_model_with_author(lists.idea_row(row)),
                first=first, after=after, last=last, before=before, order=order, prefix="i_",
            )

        key = ("ideas", self.pk, staff, kind, order, first, after, last, before)
        page = await shared_page(info.context, key, build)
        await prepare_ideas(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(description="Projects of the territory, newest first.")
    async def projects(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Project, strawberry.lazy("schema.projects")]]:
        from schema.projects import Project

        query = await info.context.visible(mpr.Project.filter(territory_id=self.pk), self.pk)
        return await paginate(
            query, Project.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Polls of the territory, newest first.")
    async def polls(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: Annotated[PollStatus, strawberry.lazy("schema.polls")] | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Poll, strawberry.lazy("schema.polls")]]:
        from schema import lists
        from schema.horizon import recording
        from schema.polls import Poll, note_status_boundaries, prepare_polls, prepare_polls_for_viewer

        staff = await info.context.is_staff(self.pk)
        kind = status.value if status is not None else None

        async def build() -> Connection[Poll]:
            if kind is not None and recording():
                visible = mp.Poll.filter(territory_id=self.pk)
                await note_status_boundaries(visible if staff else visible.filter(hidden=False))
            source = lists.polls(self.pk, staff=staff, status=kind, now=dt.datetime.now(dt.UTC))
            page = await paginate_sql(
                source, lambda row: Poll.from_model(lists.poll_row(row)),
                first=first, after=after, last=last, before=before, prefix="p_",
            )
            await prepare_polls(info, [edge.node for edge in page.edges])
            return page

        key = ("polls", self.pk, staff, kind, first, after, last, before)
        page = await shared_page(info.context, key, build)
        await prepare_polls_for_viewer(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(description="News posts of the territory, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[NewsPost, strawberry.lazy("schema.news")]]:
        from schema.news import NewsPost

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
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Annotated[FeedItemConnection, strawberry.lazy("schema.feed")]:
        from schema.feed import feed_page

        return await feed_page(info, self.pk, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Reports of content, newest first. Moderators and admins only.")
    async def reports(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Annotated[Report, strawberry.lazy("schema.moderation")]]:
        from schema.moderation import Report

        await info.context.check_staff(self.pk)
        return await paginate(
            ReportRow.filter(territory_id=self.pk), Report.from_model,
            first=first, after=after, last=last, before=before,
        )

    @strawberry.field(description="Participation figures: who takes part, how officials keep the charter.")
    async def stats(self) -> TerritoryStats:
        return await TerritoryStats.compute(self.pk)


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
        # Overdue questions and polls held move with the clock: not bounded here.
        not_reusable()
        now = dt.datetime.now(dt.UTC)
        territory = await mt.Territory.get(id=territory_id)
        people: set[int] = set()
        people.update(await mq.Question.filter(territory_id=territory_id).values_list("author_id", flat=True))
        people.update(await mi.Idea.filter(territory_id=territory_id).values_list("author_id", flat=True))
        people.update(
            await mi.Support.filter(idea__territory_id=territory_id).values_list("member_id", flat=True)
        )
        people.update(
            await mp.PollParticipation.filter(poll__territory_id=territory_id).values_list(
                "member_id", flat=True
            )
        )
        people.update(await mc.Comment.filter(territory_id=territory_id).values_list("author_id", flat=True))
        replies = await mq.Reply.filter(territory_id=territory_id).values_list("on_time", "reply_seconds")
        polls = mp.Poll.filter(territory_id=territory_id, opens_at__lte=now)
        votes = sum(await polls.values_list("total_votes", flat=True))
        questions = mq.Question.filter(territory_id=territory_id)
        ideas = mi.Idea.filter(territory_id=territory_id)
        return cls(
            participants=len(people),
            reach=(len(people) / territory.population) if territory.population else None,
            questions_asked=await questions.count(),
            questions_answered=await questions.filter(status=mq.QuestionStatus.ANSWERED).count(),
            questions_overdue=await questions.filter(
                status=mq.QuestionStatus.OPEN, due_at__lt=now
            ).count(),
            on_time_reply_rate=(sum(1 for on_time, _ in replies if on_time) / len(replies))
            if replies
            else None,
            median_reply_seconds=int(statistics.median(s for _, s in replies)) if replies else None,
            ideas_proposed=await ideas.count(),
            ideas_realized=await ideas.filter(status=mi.IdeaStatus.REALIZED).count(),
            polls_held=await polls.count(),
            votes_cast=votes,
        )





@strawberry.input(description="Changes to a territory's settings; omitted fields stay as they are.")
class UpdateTerritoryInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")
    name: str | None = strawberry.field(default=None, description="New name, 1 to 200 characters.")
    population: int | None = strawberry.field(default=None, description="Number of inhabitants, 0 or more.")
    charter: str | None = strawberry.field(default=None, description="The participation charter.")
    reply_deadline_days: int | None = strawberry.field(
        default=None, description="Days officials have to reply, 1 to 365; applies to new questions."
    )


@strawberry.type(description="The result of updateTerritory.")
class TerritoryPayload:
    territory: Territory | None = strawberry.field(description="The territory as it now stands.")
    user_errors: list[UserError] = strawberry.field(description="Why the request was refused.")
