"""Comments: members discuss questions, ideas, projects and news posts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from events.envelopes import Event, territory_channel
from models import clock
from models.accounts import Member
from models.comments import Comment as CommentRow
from models.notifications import NotificationKind
from reads.nodes import load_row
from resolvers.editing import check_and_edit, do_delete, load_authored
from resolvers.mutations import check_member, mutate
from resolvers.notifications import do_notify, do_notify_followers
from resolvers.validation import Checks
from schema.authorship import COMMENT_EDIT_MINUTES, COMMENT_EDIT_WINDOW
from schema.comments import AddCommentInput, Comment, CommentPayload, DeleteCommentInput, EditCommentInput
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id

COMMENTABLE_KINDS = ("Question", "Idea", "Project", "NewsPost")


def subject_author_field(kind: str) -> str:
    """The member field of a commentable (or reportable) row that names who wrote it."""
    return "created_by_id" if kind in ("Project", "Poll") else (
        "official_id" if kind == "Reply" else "author_id"
    )


def subject_title(row: Any) -> str:
    for name in ("title", "question"):
        value = getattr(row, name, None)
        if isinstance(value, str):
            return value
    return ""


async def check_commentable(ctx: Context, global_id: str) -> tuple[str, Any]:
    """(kind, row) of the item a comment is about, if the viewer may see it, else NOT_FOUND."""
    decoded = decode_id(global_id)
    row = None
    if decoded is not None and decoded[0] in COMMENTABLE_KINDS:
        row = await load_row(ctx, *decoded)
    if decoded is None or row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "Nothing to comment on with this id.", "subjectId")
    return decoded[0], row


async def do_notify_author_of_comment(
    ctx: Context, kind: str, subject: Any, commenter: Member
) -> None:
    """Tell the author of the commented item (not when they commented themselves)."""
    author = await Member.filter(id=getattr(subject, subject_author_field(kind))).select_related(
        "account"
    ).first()
    name = commenter.account.display_name
    title = subject_title(subject)
    told = {commenter.account_id}
    if author is not None and author.account_id != commenter.account_id and author.account.deleted_at is None:
        await do_notify(
            ctx,
            author.account_id,
            NotificationKind.NEW_COMMENT,
            kind,
            subject.id,
            "{name} commented on “{title}”." if title else "{name} commented on what you published.",
            name=name, title=title or "",
        )
        told.add(author.account_id)
    await do_notify_followers(
        ctx,
        NotificationKind.NEW_COMMENT,
        kind,
        subject.id,
        "{name} commented on “{title}”, which you follow." if title else "{name} commented on what you follow.",
        told=told, name=name, title=title or "",
    )


def comment_payload(row: CommentRow | None, errors: list[UserError]) -> CommentPayload:
    return CommentPayload(comment=Comment.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class CommentsMutation:
    @strawberry.mutation(
        description=(
            "Comment on a question, an idea, a project or a news post of a territory you "
            "joined. Its author is notified."
        )
    )
    async def add_comment(self, info: Info[Context, None], input: AddCommentInput) -> CommentPayload:
        ctx = info.context
        async def work() -> CommentRow:
            ctx.require_account()
            kind, subject = await check_commentable(ctx, input.subject_id)
            member = await check_member(ctx, subject.territory_id, "comment", "subjectId")
            checks = Checks()
            body = checks.body(input.body, "body")
            checks.done()
            row = await CommentRow.create(
                territory_id=subject.territory_id,
                author_id=member.id,
                subject_type=kind,
                subject_id=subject.id,
                body=body,
            )
            await do_notify_author_of_comment(ctx, kind, subject, member)
            ctx.queue(
                Event(
                    channel=territory_channel(subject.territory_id),
                    type="comment",
                    data={"comment": row.id, "kind": kind, "subject": subject.id},
                )
            )
            return row

        return await mutate(ctx, work, comment_payload, limit=("comment", "comments"))

    @strawberry.mutation(
        description=(
            f"Edit one's own comment within {COMMENT_EDIT_MINUTES} minutes of writing it "
            "(EDIT_WINDOW_CLOSED after, and for a comment a moderator hid: it stays hidden). "
            "It shows editedAt from then on."
        )
    )
    async def edit_comment(self, info: Info[Context, None], input: EditCommentInput) -> CommentPayload:
        ctx = info.context

        async def work() -> CommentRow:
            row = await load_authored(ctx, CommentRow, "Comment", input.comment_id, "commentId")
            checks = Checks()
            body = checks.body(input.body, "body")
            checks.done()
            await check_and_edit(
                ctx, "Comment", row, {"body": body}, "commentId",
                created_at__gte=clock.now() - COMMENT_EDIT_WINDOW,
            )
            return await CommentRow.get(id=row.id)

        return await mutate(ctx, work, comment_payload, limit=("edit", "edits"))

    @strawberry.mutation(
        description=(
            "Delete one's own comment: it keeps its place in the thread as deleted (deletedAt), "
            "its body gone. A comment a moderator hid cannot be deleted (EDIT_WINDOW_CLOSED); "
            "deleting twice answers ALREADY_DELETED."
        )
    )
    async def delete_comment(self, info: Info[Context, None], input: DeleteCommentInput) -> CommentPayload:
        ctx = info.context

        async def work() -> CommentRow:
            row = await load_authored(ctx, CommentRow, "Comment", input.comment_id, "commentId")
            await do_delete(ctx, "Comment", row, "commentId")
            return await CommentRow.get(id=row.id)

        return await mutate(ctx, work, comment_payload, limit=("edit", "edits"))
