"""Questions: asking, replying (the charter's deadline is measured here) and closing."""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from tortoise.exceptions import IntegrityError

from access.context import Context
from events.envelopes import Event, territory_channel
from models import clock
from models.accounts import Member, Role
from models.clock import as_utc
from models.consultations import PhaseItem
from models.notifications import NotificationKind
from models.questions import Question as QuestionRow
from models.questions import QuestionStatus, due_date, reply_timing
from models.questions import Reply as ReplyRow
from models.territories import Territory as TerritoryRow
from resolvers.editing import check_and_edit, check_edits, do_delete, load_authored
from resolvers.feed import do_add_to_feed
from resolvers.mutations import check_member, mutate
from resolvers.notifications import do_notify, do_notify_followers
from resolvers.validation import Checks
from schema.consultations.types import check_phase_takes
from schema.errors import Refusal, UserError, UserErrorCode
from schema.questions import (
    AskQuestionInput,
    CloseQuestionInput,
    DeleteQuestionInput,
    EditQuestionInput,
    Question,
    QuestionPayload,
    Reply,
    ReplyPayload,
    ReplyToQuestionInput,
    check_may_reply,
    check_question_row,
)
from schema.relay import decode_id_of

REASON_MAX = 2000


async def check_question(ctx: Context, global_id: str) -> QuestionRow:
    """The question behind a global id, locked for this transaction, if the viewer may see it."""
    pk = (await check_question_row(ctx, decode_id_of(global_id, "Question"))).id
    # Re-read under a row lock: two officials replying at once, or a moderator closing
    # while an official replies, see each other's outcome (PostgreSQL; SQLite serializes).
    row = await QuestionRow.filter(id=pk).select_for_update().first()
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such question.", "questionId")
    return row


async def check_addressee(territory_id: int, global_id: str | None) -> Member | None:
    """The official a question is addressed to: an OFFICIAL of the same territory, else NOT_FOUND."""
    if global_id is None:
        return None
    pk = decode_id_of(global_id, "Member")
    official = (
        await Member.filter(id=pk, territory_id=territory_id, role=Role.OFFICIAL).first()
        if pk is not None
        else None
    )
    if official is None:
        raise Refusal.of(
            UserErrorCode.NOT_FOUND, "No such official in this territory.", "officialId"
        )
    return official


def question_payload(row: QuestionRow | None, errors: list[UserError]) -> QuestionPayload:
    return QuestionPayload(question=Question.from_model(row) if row else None, user_errors=errors)


def see_written(ctx: Context, question: QuestionRow, reply: ReplyRow | None = None) -> None:
    """Make this request's loaders serve what the mutation just committed: they may hold
    the rows as they were read before the write (load_row goes through them)."""
    ctx.loaders.by_id(QuestionRow).prime(question.id, question, force=True)
    if reply is not None:
        ctx.loaders.reply_by_question.prime(question.id, reply, force=True)


@strawberry.type
class QuestionsMutation:
    @strawberry.mutation(
        description=(
            "Ask a question in a territory, to one of its officials or to the territory as a "
            "whole. Its due date is fixed now, from the charter's reply deadline."
        )
    )
    async def ask_question(self, info: Info[Context, None], input: AskQuestionInput) -> QuestionPayload:
        ctx = info.context

        async def work() -> QuestionRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            territory = (
                await TerritoryRow.filter(id=territory_id).first() if territory_id else None
            )
            if territory is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member = await check_member(ctx, territory.id, "ask a question", "territoryId")
            checks = Checks()
            title = checks.title(input.title, "title")
            body = checks.body(input.body, "body")
            checks.done()
            official = await check_addressee(territory.id, input.official_id)
            now = clock.now()
            phase = None
            if input.phase_id is not None:
                phase = await check_phase_takes(ctx, input.phase_id, territory.id, "questions", now)
            question = await QuestionRow.create(
                territory_id=territory.id,
                author_id=member.id,
                official_id=official.id if official else None,
                title=title,
                body=body,
                status=QuestionStatus.OPEN,
                created_at=now,
                due_at=due_date(now, territory.reply_deadline_days),
            )
            if phase is not None:
                await PhaseItem.create(phase_id=phase.id, subject_type="Question", subject_id=question.id)
            return question

        return await mutate(ctx, work, question_payload, limit=("question", "questions"))

    @strawberry.mutation(
        description=(
            "Reply publicly to a question: the addressed official, or any official of the "
            "territory when none is addressed. One reply per question; the asker is notified."
        )
    )
    async def reply_to_question(self, info: Info[Context, None], input: ReplyToQuestionInput) -> ReplyPayload:
        ctx = info.context

        async def work() -> tuple[ReplyRow, QuestionRow]:
            account = ctx.require_account()
            question = await check_question(ctx, input.question_id)
            official = await check_may_reply(ctx, question)
            checks = Checks()
            body = checks.body(input.body, "body")
            checks.done()

            now = clock.now()
            on_time, took = reply_timing(as_utc(question.created_at), as_utc(question.due_at), now)
            try:
                reply = await ReplyRow.create(
                    question_id=question.id,
                    official_id=official.id,
                    territory_id=question.territory_id,
                    body=body,
                    created_at=now,
                    on_time=on_time,
                    reply_seconds=took,
                )
            except IntegrityError as exc:
                # The OneToOne constraint: another reply won the race.
                raise Refusal.of(
                    UserErrorCode.ALREADY_ANSWERED, "This question already has its reply.", "questionId"
                ) from exc
            question.status = QuestionStatus.ANSWERED
            question.answered_at = question.updated_at = now
            await question.save(update_fields=["status", "answered_at", "updated_at"])

            asker = await Member.filter(id=question.author_id).select_related("account").first()
            # Nobody is told of their own reply, nor is an erased account.
            told = {account.id}
            if (
                asker is not None
                and asker.account_id != account.id
                and asker.account.deleted_at is None
            ):
                await do_notify(
                    ctx,
                    asker.account_id,
                    NotificationKind.QUESTION_ANSWERED,
                    "Question",
                    question.id,
                    "{name} replied to your question: {title}",
                    name=account.display_name, title=question.title,
                )
                told.add(asker.account_id)
            await do_notify_followers(
                ctx,
                NotificationKind.QUESTION_ANSWERED,
                "Question",
                question.id,
                "{name} replied to a question you follow: {title}",
                told=told, name=account.display_name, title=question.title,
            )
            await do_add_to_feed(ctx, question.territory_id, "Reply", reply.id)
            ctx.queue(
                Event(
                    channel=territory_channel(question.territory_id),
                    type="reply",
                    data={"reply": reply.id, "official": official.id},
                )
            )
            return reply, question

        def respond(result: tuple[ReplyRow, QuestionRow] | None, errors: list[UserError]) -> ReplyPayload:
            if result is None:
                return ReplyPayload(reply=None, user_errors=errors)
            row, question = result
            see_written(ctx, question, row)
            return ReplyPayload(reply=Reply.from_model(row), user_errors=[])

        return await mutate(ctx, work, respond)

    @strawberry.mutation(
        description=(
            "Close a question left unanswered (out of scope, duplicate) with a public reason. "
            "Moderators and admins of the territory only; an answered question stays answered."
        )
    )
    async def close_question(self, info: Info[Context, None], input: CloseQuestionInput) -> QuestionPayload:
        ctx = info.context

        async def work() -> QuestionRow:
            ctx.require_account()
            question = await check_question(ctx, input.question_id)
            await ctx.check_staff(question.territory_id)
            if question.status == QuestionStatus.ANSWERED:
                raise Refusal.of(
                    UserErrorCode.INVALID, "An answered question cannot be closed.", "questionId"
                )
            if question.status == QuestionStatus.CLOSED:
                raise Refusal.of(
                    UserErrorCode.INVALID, "This question is already closed.", "questionId"
                )
            checks = Checks()
            reason = checks.text(input.reason, "reason", max_length=REASON_MAX)
            checks.done()
            question.status = QuestionStatus.CLOSED
            question.closed_reason = reason
            question.updated_at = clock.now()
            await question.save(update_fields=["status", "closed_reason", "updated_at"])
            return question

        def respond(row: QuestionRow | None, errors: list[UserError]) -> QuestionPayload:
            if row is not None:
                see_written(ctx, row)
            return question_payload(row, errors)

        return await mutate(ctx, work, respond)

    @strawberry.mutation(
        description=(
            "Edit one's own question (title, body or both, validated as when asking) while it "
            "waits for its reply: once answered or closed, EDIT_WINDOW_CLOSED; a question a "
            "moderator hid cannot be edited either."
        )
    )
    async def edit_question(self, info: Info[Context, None], input: EditQuestionInput) -> QuestionPayload:
        ctx = info.context

        async def work() -> QuestionRow:
            row = await load_authored(ctx, QuestionRow, "Question", input.question_id, "questionId")
            changes = check_edits(input.title, input.body)
            await check_and_edit(ctx, "Question", row, changes, "questionId", status=QuestionStatus.OPEN)
            return await QuestionRow.get(id=row.id)

        def respond(row: QuestionRow | None, errors: list[UserError]) -> QuestionPayload:
            if row is not None:
                see_written(ctx, row)
            return question_payload(row, errors)

        return await mutate(ctx, work, respond, limit=("edit", "edits"))

    @strawberry.mutation(
        description=(
            "Delete one's own question before it is answered (ALREADY_ANSWERED after). It "
            "leaves every list, lookup and feed at once; the territory's moderators keep it, "
            "marked deleted, as evidence for reports. A question a moderator hid cannot be "
            "deleted (EDIT_WINDOW_CLOSED)."
        )
    )
    async def delete_question(self, info: Info[Context, None], input: DeleteQuestionInput) -> QuestionPayload:
        ctx = info.context

        async def work() -> QuestionRow:
            row = await load_authored(ctx, QuestionRow, "Question", input.question_id, "questionId")
            await do_delete(
                ctx, "Question", row, "questionId",
                status__in=[QuestionStatus.OPEN, QuestionStatus.CLOSED],
            )
            return await QuestionRow.get(id=row.id)

        def respond(row: QuestionRow | None, errors: list[UserError]) -> QuestionPayload:
            if row is not None:
                see_written(ctx, row)
            return question_payload(row, errors)

        return await mutate(ctx, work, respond, limit=("edit", "edits"))
