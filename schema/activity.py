""""My activity": the viewer's own lists (Viewer's questions, ideas, comments, votes, supports
and follows) and the small types they page, mixed into `Viewer` (schema/accounts.py).

Each list reads one account, the viewer's own (reads/activity.py says what each keeps). A
vote is shown as the poll taken part in: the participation row holds no choice and no time,
and no field here reaches a sealed ballot or says anything the poll itself does not.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.types import Info

from access.context import Context
from models import ideas as mi
from models import polls as mp
from models import questions as mq
from models import reach as mr
from models.clock import as_utc
from reads import activity
from reads.nodes import load_row
from schema.relay import Connection, Node, as_node, paginate

if TYPE_CHECKING:
    from schema.comments import Comment
    from schema.ideas import Idea
    from schema.polls import Poll
    from schema.questions import Question


@strawberry.interface(description="Something a person can follow (follow): a question, an idea, a project, a poll or a consultation.")
class Followable(Node):
    id: strawberry.ID = strawberry.field(description="The object's global id.")


@strawberry.type(description="A poll the viewer voted in: that they took part, never what they chose.")
class PollParticipation:
    poll: Annotated[Poll, strawberry.lazy("schema.polls")] = strawberry.field(
        description="The poll. When the vote was cast is not recorded (who voted and what was voted share "
        "no time, ADR 0009); the list is newest vote first."
    )

    @classmethod
    def from_model(cls, row: mp.PollParticipation) -> PollParticipation:
        poll = cast("Poll", as_node("Poll", row.poll))
        poll.ready_viewer_has_voted = True
        return cls(poll=poll)


@strawberry.type(description="An idea the viewer supports, and since when.")
class IdeaSupport:
    idea: Annotated[Idea, strawberry.lazy("schema.ideas")] = strawberry.field(description="The idea.")
    supported_at: dt.datetime = strawberry.field(description="When the viewer supported it.")

    @classmethod
    def from_model(cls, row: mi.Support) -> IdeaSupport:
        idea = cast("Idea", as_node("Idea", row.idea))
        idea.ready_viewer_supports = True
        return cls(idea=idea, supported_at=as_utc(row.created_at))


@strawberry.type(description="Something the viewer follows, and since when.")
class Following:
    followed_at: dt.datetime = strawberry.field(description="When the viewer started following it.")
    subject_type: strawberry.Private[str]
    subject_pk: strawberry.Private[int]

    @strawberry.field(
        description="What is followed; null only if it was hidden or removed since the page was read "
        "(the list leaves out what the viewer may not see)."
    )
    async def subject(self, info: Info[Context, None]) -> Followable | None:
        row = await load_row(info.context, self.subject_type, self.subject_pk)
        return cast(Followable, as_node(self.subject_type, row)) if row is not None else None

    @classmethod
    def from_model(cls, row: mr.Follow) -> Following:
        return cls(followed_at=as_utc(row.created_at), subject_type=row.subject_type, subject_pk=row.subject_id)


def _question(row: mq.Question) -> Question:
    return cast("Question", as_node("Question", row))


def _idea(row: mi.Idea) -> Idea:
    return cast("Idea", as_node("Idea", row))


def _comment(row: object) -> Comment:
    return cast("Comment", as_node("Comment", row))


@strawberry.type(description="The viewer's own lists, in every territory, newest first.")
class MyActivity:
    account_pk: strawberry.Private[int]

    @strawberry.field(
        description="The questions the viewer asked, in every territory, newest first; those a "
        "moderator hid included (only their author and the moderators see them), those they deleted "
        "left out."
    )
    async def questions(
        self, first: int | None = None, after: str | None = None,
    ) -> Connection[Annotated[Question, strawberry.lazy("schema.questions")]]:
        query = mq.Question.filter(author__account_id=self.account_pk, deleted_at__isnull=True)
        return await paginate(query, _question, first=first, after=after)

    @strawberry.field(
        description="The ideas the viewer proposed, in every territory, newest first; those a "
        "moderator hid included (only their author and the moderators see them), those they deleted "
        "left out."
    )
    async def ideas(
        self, first: int | None = None, after: str | None = None,
    ) -> Connection[Annotated[Idea, strawberry.lazy("schema.ideas")]]:
        query = mi.Idea.filter(author__account_id=self.account_pk, deleted_at__isnull=True)
        return await paginate(query, _idea, first=first, after=after)

    @strawberry.field(
        description="The comments the viewer wrote, in every territory, newest first, each with what it "
        "is on (`subject`); those a moderator hid included (`hidden`), those they deleted and those on "
        "content hidden from the viewer left out."
    )
    async def comments(
        self, first: int | None = None, after: str | None = None,
    ) -> Connection[Annotated[Comment, strawberry.lazy("schema.comments")]]:
        return await paginate(activity.comments_of(self.account_pk), _comment, first=first, after=after)

    @strawberry.field(
        description="The polls the viewer voted in, newest vote first: never what they chose. A poll "
        "hidden from the viewer is left out."
    )
    async def votes(self, first: int | None = None, after: str | None = None) -> Connection[PollParticipation]:
        return await paginate(
            activity.participations_of(self.account_pk), PollParticipation.from_model, first=first, after=after
        )

    @strawberry.field(
        description="The ideas the viewer supports, most recently supported first; a hidden idea is left out."
    )
    async def supports(self, first: int | None = None, after: str | None = None) -> Connection[IdeaSupport]:
        return await paginate(activity.supports_of(self.account_pk), IdeaSupport.from_model, first=first, after=after)

    @strawberry.field(
        description="What the viewer follows (questions, ideas, projects, polls, consultations), most recently followed "
        "first; what is hidden from the viewer is left out."
    )
    async def follows(self, first: int | None = None, after: str | None = None) -> Connection[Following]:
        return await paginate(activity.follows_of(self.account_pk), Following.from_model, first=first, after=after)
