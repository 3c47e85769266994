"""Questions citizens ask their officials, the officials' public replies, and their inputs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import forbidden, not_found
from models import accounts as ma
from models import clock
from models import questions as mq
from models.clock import as_utc
from reads import lists
from reads.nodes import load_row
from reads.paging import PageArgs
from reads.shared import AudienceReader, SharedPart
from reads.visibility import can_see
from schema.accounts import Official, member_from_model, official_from_model
from schema.activity import Followable
from schema.authorship import Authored, check_may_delete, check_may_edit
from schema.comments import Comment, Commentable, comments_page
from schema.errors import Refusal, UserError, UserErrorCode
from schema.permissions import Permission, check_member, permission
from schema.placement import OUTCOMES_DESCRIPTION, InTerritory, WrittenByMember, content_url, outcomes_answering
from schema.relay import Connection, Node, encode_id, paginate_sql, register_node
from sharing.horizon import note_boundary
from sharing.parts import Audience, Part

if TYPE_CHECKING:
    from schema.consultations.types import Outcome


@strawberry.enum(description="Where a question stands.")
class QuestionStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Waiting for its reply.")
    ANSWERED = strawberry.enum_value("ANSWERED", description="An official replied.")
    CLOSED = strawberry.enum_value(
        "CLOSED", description="Closed unanswered by a moderator (out of scope, duplicate), with a reason."
    )



@strawberry.enum(description="How a list of questions is ordered.")
class QuestionOrder(Enum):
    NEWEST = strawberry.enum_value("NEWEST", description="Most recently asked first.")
    OLDEST = strawberry.enum_value("OLDEST", description="First asked first.")
    MOST_OVERDUE = strawberry.enum_value(
        "MOST_OVERDUE",
        description="Open questions first, the longest overdue (earliest dueAt) first; then answered "
        "and closed ones by dueAt.",
    )


def question_overdue(status: str, due_at: dt.datetime) -> bool:
    """Still open after dueAt (an open question not yet due turns overdue at dueAt)."""
    if status != mq.QuestionStatus.OPEN.value:
        return False
    if clock.now() > due_at:
        return True
    note_boundary(due_at)
    return False


async def check_may_reply(ctx: Context, question: mq.Question) -> ma.Member:
    """replyToQuestion's checks of the viewer and the question (one the viewer may see): the
    addressed official, or any official of the territory when the question is addressed to
    the territory as a whole (FORBIDDEN otherwise), a member as every write needs, and the
    question still waiting for its reply (ALREADY_ANSWERED, INVALID once closed)."""
    ctx.require_account()
    member = await ctx.membership(question.territory_id)
    if member is None or member.role != ma.Role.OFFICIAL:
        raise forbidden("Only the territory's officials may reply to questions.")
    if question.official_id is not None and question.official_id != member.id:
        raise forbidden("Only the official this question is addressed to may reply.")
    await check_member(ctx, question.territory_id, "reply", "questionId")
    if question.status == mq.QuestionStatus.ANSWERED:
        raise Refusal.of(
            UserErrorCode.ALREADY_ANSWERED, "This question already has its reply.", "questionId"
        )
    if question.status == mq.QuestionStatus.CLOSED:
        raise Refusal.of(UserErrorCode.INVALID, "A closed question cannot be answered.", "questionId")
    return member


async def check_question_row(ctx: Context, pk: int | None) -> mq.Question:
    """The question `pk` if the viewer may see it, else a NOT_FOUND refusal."""
    row = await load_row(ctx, "Question", pk) if pk is not None else None
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such question.", "questionId")
    return row  # type: ignore[no-any-return]


async def reply_permission(ctx: Context, question_pk: int) -> None:
    await check_may_reply(ctx, await check_question_row(ctx, question_pk))


@strawberry.type(description="A question a member asked an official, or the territory as a whole.")
class Question(Commentable, Followable, InTerritory, WrittenByMember):
    id: strawberry.ID = strawberry.field(description="The question's global id.")
    title: str = strawberry.field(description="The question in a line.")
    body: str = strawberry.field(description="The question in full.")
    status: QuestionStatus = strawberry.field(description="Where the question stands.")
    closed_reason: str | None = strawberry.field(
        description="Why a moderator closed it unanswered; null unless CLOSED."
    )
    created_at: dt.datetime = strawberry.field(description="When it was asked.")
    due_at: dt.datetime = strawberry.field(
        description="createdAt + the territory's replyDeadlineDays as they were when it was asked."
    )
    overdue: bool = strawberry.field(description="Still open (unanswered) after dueAt.")
    updated_at: dt.datetime = strawberry.field(
        description="When its author last edited it or its status last changed; createdAt until then."
    )
    hidden: bool = strawberry.field(
        description="Whether a moderator hid it: then only its author (in Viewer's lists) and the "
        "territory's moderators and admins see it."
    )
    edited_at: dt.datetime | None = strawberry.field(
        description="When its author last edited its title or text; null when never edited."
    )
    deleted_at: dt.datetime | None = strawberry.field(
        description="When its author deleted it (deleteQuestion); null otherwise. A deleted question "
        "is shown to the territory's moderators and admins only, as hidden content is."
    )
    reference: str = strawberry.field(
        description="Its human reference for phone support, unique in its territory and stable: "
        "Q-<year asked>-<rank among the territory's questions of that year>, e.g. Q-2026-0042 "
        "(Territory.questionByReference finds it back)."
    )
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    official_pk: strawberry.Private[int | None]
    status_value: strawberry.Private[str] = ""
    # Set by the connection that listed the question (see take_replies): plain
    # values, no async resolver per item. `ready` says whether they were set.
    ready: strawberry.Private[bool] = False
    ready_official: strawberry.Private[Official | None] = None
    ready_reply: strawberry.Private[Reply | None] = None

    @classmethod
    def from_model(cls, row: mq.Question) -> Question:
        status = row.status.value if isinstance(row.status, mq.QuestionStatus) else row.status
        due_at = as_utc(row.due_at)
        return cls(
            id=strawberry.ID(encode_id("Question", row.id)),
            title=row.title,
            body=row.body,
            status=QuestionStatus(status),
            closed_reason=row.closed_reason,
            created_at=as_utc(row.created_at),
            due_at=due_at,
            overdue=question_overdue(status, due_at),
            updated_at=as_utc(row.updated_at or row.created_at),
            hidden=bool(row.hidden),
            edited_at=as_utc(row.edited_at) if row.edited_at else None,
            deleted_at=as_utc(row.deleted_at) if row.deleted_at else None,
            reference=row.reference or encode_id("Question", row.id),
            pk=row.id,
            territory_pk=row.territory_id,
            author_pk=row.author_id,
            official_pk=row.official_id,
            status_value=status,
        )

    def authored(self) -> Authored:
        return Authored(
            kind="question", territory_id=self.territory_pk, author_id=self.author_pk, hidden=self.hidden,
            deleted=self.deleted_at is not None, created_at=self.created_at, status=self.status_value,
        )

    @classmethod
    def from_model_with_people(cls, row: mq.Question) -> Question:
        """A question read with select_related("author__account", "official__account")."""
        question = cls.from_model(row)
        question.ready_author = member_from_model(row.author)
        question.ready_official = official_from_model(row.official) if row.official is not None else None
        return question

    # Sync resolvers: a ready value costs no coroutine; otherwise they hand graphql-core an
    # awaitable, which it awaits as it would an async resolver's.
    @strawberry.field(
        description="The official it is addressed to; null: addressed to the territory as a whole."
    )
    def official(self, info: Info[Context, None]) -> Official | None:
        if self.official_pk is None:
            return None
        if self.ready_official is not None:
            return self.ready_official
        return self._load_official(info)  # type: ignore[return-value]

    async def _load_official(self, info: Info[Context, None]) -> Official | None:
        if self.official_pk is None:
            return None
        return official_from_model(await info.context.loaders.member_of(self.official_pk))

    @strawberry.field(description=OUTCOMES_DESCRIPTION)
    async def outcomes(self, info: Info[Context, None]) -> list[Annotated[Outcome, strawberry.lazy("schema.consultations.types")]]:
        return await outcomes_answering(info.context, "Question", self.pk)

    @strawberry.field(description="The official's public reply; null until answered (or while hidden).")
    def reply(self, info: Info[Context, None]) -> Reply | None:
        if self.ready:
            return self.ready_reply
        return self._load_reply(info)  # type: ignore[return-value]

    async def _load_reply(self, info: Info[Context, None]) -> Reply | None:
        row = await info.context.loaders.reply_by_question.load(self.pk)
        if row is None or not await info.context.can_see(row):
            return None
        return Reply.from_model(row)

    @strawberry.field(
        description="Whether replyToQuestion would take the viewer's reply now, else the code it would "
        "answer (UNAUTHENTICATED, FORBIDDEN: not the official it is addressed to, ALREADY_ANSWERED, "
        "INVALID: closed)."
    )
    async def viewer_can_reply(self, info: Info[Context, None]) -> Permission:
        return await permission(reply_permission(info.context, self.pk))

    @strawberry.field(
        description="Whether editQuestion would take the viewer's changes now, else the code it would "
        "answer (UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, EDIT_WINDOW_CLOSED: answered, closed "
        "or hidden by a moderator, ALREADY_DELETED)."
    )
    async def viewer_can_edit(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_edit(info.context, self.authored(), "questionId"))

    @strawberry.field(
        description="Whether deleteQuestion would delete it for the viewer now, else the code it would "
        "answer (UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, ALREADY_ANSWERED, EDIT_WINDOW_CLOSED: "
        "hidden by a moderator, ALREADY_DELETED)."
    )
    async def viewer_can_delete(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_delete(info.context, self.authored(), "questionId"))

    @strawberry.field(
        description="Its canonical path for deep links from emails and push: "
        "/t/<territory slug>/questions/<reference>, e.g. /t/lyon/questions/Q-2026-0042."
    )
    async def url(self, info: Info[Context, None]) -> str:
        return await content_url(info, self.territory_pk, "Question", self.reference)

    @strawberry.field(description="The comments on the question, oldest first.")
    async def comments(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:

        return await comments_page(
            info, "Question", self.pk, self.territory_pk,
            first=first, after=after, last=last, before=before,
        )


@strawberry.type(description="An official's public reply to a question.")
class Reply(Node):
    id: strawberry.ID = strawberry.field(description="The reply's global id.")
    body: str = strawberry.field(description="What the official replied.")
    created_at: dt.datetime = strawberry.field(description="When the reply was published.")
    pk: strawberry.Private[int]
    question_pk: strawberry.Private[int]
    official_pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    # Set when the reply was read with its official (see take_replies).
    ready_official: strawberry.Private[Official | None] = None

    @classmethod
    def from_model(cls, row: mq.Reply) -> Reply:
        return cls(
            id=strawberry.ID(encode_id("Reply", row.id)),
            body=row.body,
            created_at=as_utc(row.created_at),
            pk=row.id,
            question_pk=row.question_id,
            official_pk=row.official_id,
            territory_pk=row.territory_id,
        )

    @strawberry.field(description="The official who replied.")
    def official(self, info: Info[Context, None]) -> Official:
        if self.ready_official is not None:
            return self.ready_official
        return self._load_official(info)  # type: ignore[return-value]

    async def _load_official(self, info: Info[Context, None]) -> Official:
        return official_from_model(await info.context.loaders.member_of(self.official_pk))

    @strawberry.field(description="The question this reply answers.")
    async def question(self, info: Info[Context, None]) -> Question:
        # Through the one rule: a reply is shown only under a question the viewer sees, and
        # this holds it should a path forget (a reply read without its question).
        row = await load_row(info.context, "Question", self.question_pk)
        if row is None:
            raise not_found("This reply's question is hidden or gone.")
        return Question.from_model(row)


async def take_replies(reader: AudienceReader, questions: list[Question]) -> None:
    """The replies of a page of questions, with their officials, in one statement; hidden
    replies only for the STAFF audience (as Question.reply decides item by item)."""
    if not questions:
        return
    replies: dict[int, Reply] = {}
    for row in await lists.replies_of([q.pk for q in questions]):
        if not await can_see(reader, row):
            continue
        reply = Reply.from_model(row)
        reply.ready_official = official_from_model(row.official)
        replies[row.question_id] = reply
    for question in questions:
        question.ready_reply = replies.get(question.pk)
        question.ready = True


@dataclass(frozen=True)
class QuestionsPage:
    """A page of a territory's questions: the arguments of the shared part QUESTIONS_PAGE."""

    territory: int
    status: str | None
    official: int | None
    page: PageArgs
    order: str = QuestionOrder.NEWEST.name
    narrowing: lists.Narrowing = lists.Narrowing()


async def build_questions_page(reader: AudienceReader, args: QuestionsPage) -> Connection[Question]:
    """The questions of a page with their authors, officials and replies, for one audience."""
    source = lists.questions(
        args.territory, staff=reader.audience is Audience.STAFF, status=args.status, official_id=args.official,
        narrowing=args.narrowing,
    )
    order, tag = lists.question_order(args.order)
    page = await paginate_sql(
        source, lambda row: Question.from_model_with_people(lists.question_row(row)), args.page,
        order=order, prefix="q_", tag=tag,
    )
    await take_replies(reader, [edge.node for edge in page.edges])
    return page


QUESTIONS_PAGE: SharedPart[QuestionsPage, Connection[Question]] = Part("questions", build_questions_page)


@strawberry.input(description="A question to ask in a territory.")
class AskQuestionInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory asked.")
    official_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of an official of that territory; null: ask the territory as a whole.",
    )
    title: str = strawberry.field(description="The question in a line, 1 to 200 characters.")
    body: str = strawberry.field(description="The question in full, 1 to 20,000 characters.")
    phase_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A phase of a consultation of that territory the question is asked in: it must take "
        "questions (else PHASE_DOES_NOT_ACCEPT) and be current (else PHASE_CLOSED).",
    )


@strawberry.input(description="An official's reply to a question.")
class ReplyToQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of the question answered.")
    body: str = strawberry.field(description="The reply, 1 to 20,000 characters.")


@strawberry.input(description="A moderator's closing of a question left unanswered.")
class CloseQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of the question closed.")
    reason: str = strawberry.field(
        description="Why it is closed (out of scope, duplicate...), shown publicly; 1 to 2,000 characters."
    )


@strawberry.input(description="The author's changes to their question; omitted fields stay as they are.")
class EditQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of the question edited.")
    title: str | None = strawberry.field(default=None, description="The new title, 1 to 200 characters.")
    body: str | None = strawberry.field(default=None, description="The new text, 1 to 20,000 characters.")


@strawberry.input(description="The question its author deletes.")
class DeleteQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of the question deleted.")


@strawberry.type(description="The result of askQuestion, editQuestion, deleteQuestion or closeQuestion.")
class QuestionPayload:
    question: Question | None = strawberry.field(description="The question; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of replyToQuestion.")
class ReplyPayload:
    reply: Reply | None = strawberry.field(description="The new reply; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the reply was refused.")


register_node("Question", Question.from_model)
register_node("Reply", Reply.from_model)
