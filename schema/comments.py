"""Comments: the Commentable interface, the Comment type and its connection.

A type that can be commented implements `Commentable` and carries two private fields,
`pk` and `territory_pk`; the interface's `comments` field then works as is (the subject
kind is the type's name: "Question", "Idea", "Project", "NewsPost"). A type may still
override `comments` with the same arguments and call `comments_page` itself.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import strawberry
from strawberry.types import Info

from access.context import Context
from models import comments as mc
from models.clock import as_utc
from reads.nodes import load_row
from reads.paging import OLDEST_FIRST
from schema.accounts import Author, member_from_model
from schema.authorship import COMMENT_EDIT_MINUTES, Authored, check_may_delete, check_may_edit
from schema.errors import UserError
from schema.permissions import Permission, permission
from schema.relay import Connection, Node, as_node, encode_id, paginate, register_node


@strawberry.type(description="A comment on a question, an idea, a project or a news post.")
class Comment(Node):
    id: strawberry.ID = strawberry.field(description="The comment's global id.")
    body: str = strawberry.field(description="What the comment says; empty once its author deleted it.")
    created_at: dt.datetime = strawberry.field(description="When the comment was written.")
    edited_at: dt.datetime | None = strawberry.field(
        description=f"When its author last edited it (editComment, within {COMMENT_EDIT_MINUTES} minutes "
        "of writing it); null when never edited."
    )
    deleted_at: dt.datetime | None = strawberry.field(
        description="When its author deleted it (deleteComment): it keeps its place in the thread, its "
        "body emptied; null otherwise."
    )
    updated_at: dt.datetime = strawberry.field(
        description="When it last changed (edited or deleted); createdAt until then."
    )
    pk: strawberry.Private[int]
    author_pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    subject_type: strawberry.Private[str]
    subject_pk: strawberry.Private[int]
    hidden: bool = strawberry.field(
        description="Whether a moderator hid it: then only its author (in Viewer.comments) and the "
        "territory's moderators and admins see it."
    )

    @strawberry.field(
        description="What the comment is on: a question, an idea, a project or a news post; null when "
        "that is hidden from the viewer or gone."
    )
    async def subject(self, info: Info[Context, None]) -> Commentable | None:
        row = await load_row(info.context, self.subject_type, self.subject_pk)
        return cast(Commentable, as_node(self.subject_type, row)) if row is not None else None

    @strawberry.field(
        description='Who wrote the comment (shown as "Former member" once they erased their account).'
    )
    async def author(self, info: Info[Context, None]) -> Author:
        row = await info.context.loaders.member_of(self.author_pk)
        return member_from_model(row)

    def authored(self) -> Authored:
        return Authored(
            kind="comment", territory_id=self.territory_pk, author_id=self.author_pk, hidden=self.hidden,
            deleted=self.deleted_at is not None, created_at=self.created_at,
        )

    @strawberry.field(
        description="Whether editComment would take the viewer's changes now, else the code it would "
        f"answer (UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, EDIT_WINDOW_CLOSED: past the "
        f"{COMMENT_EDIT_MINUTES} minutes or hidden by a moderator, ALREADY_DELETED)."
    )
    async def viewer_can_edit(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_edit(info.context, self.authored(), "commentId"))

    @strawberry.field(
        description="Whether deleteComment would delete it for the viewer now, else the code it would "
        "answer (UNAUTHENTICATED, NOT_THE_AUTHOR (its FORBIDDEN's reason), NOT_A_MEMBER, EDIT_WINDOW_CLOSED: hidden by a "
        "moderator, ALREADY_DELETED)."
    )
    async def viewer_can_delete(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_delete(info.context, self.authored(), "commentId"))

    @classmethod
    def from_model(cls, row: mc.Comment) -> Comment:
        created = as_utc(row.created_at)
        edited = as_utc(row.edited_at) if row.edited_at else None
        deleted = as_utc(row.deleted_at) if row.deleted_at else None
        return cls(
            id=strawberry.ID(encode_id("Comment", row.id)),
            body="" if deleted else row.body,
            created_at=created,
            edited_at=edited,
            deleted_at=deleted,
            updated_at=max(t for t in (created, edited, deleted) if t is not None),
            pk=row.id,
            author_pk=row.author_id,
            territory_pk=row.territory_id,
            subject_type=row.subject_type,
            subject_pk=row.subject_id,
            hidden=row.hidden,
        )


async def comments_page(
    info: Info[Context, None],
    subject_type: str,
    subject_pk: int,
    territory_pk: int,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Comment]:
    """One page of the comments on a subject, oldest first (a discussion reads downwards).

    Hidden comments are shown only to the territory's moderators and admins.
    """
    query = await info.context.visible(
        mc.Comment.filter(subject_type=subject_type, subject_id=subject_pk), territory_pk
    )
    return await paginate(
        query, Comment.from_model, first=first, after=after, last=last, before=before,
        order=OLDEST_FIRST,
    )


@strawberry.interface(description="Something people can comment on.")
class Commentable(Node):
    id: strawberry.ID = strawberry.field(description="The object's global id.")
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]

    @strawberry.field(description="The comments, oldest first.")
    async def comments(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:
        return await comments_page(
            info, type(self).__name__, self.pk, self.territory_pk,
            first=first, after=after, last=last, before=before,
        )


@strawberry.input(description="A comment to add to a question, an idea, a project or a news post.")
class AddCommentInput:
    subject_id: strawberry.ID = strawberry.field(
        description="Global id of the Question, Idea, Project or NewsPost commented."
    )
    body: str = strawberry.field(description="The comment, 1 to 20,000 characters.")


@strawberry.input(description="The author's new text for their comment.")
class EditCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="Global id of the comment edited.")
    body: str = strawberry.field(description="The new text, 1 to 20,000 characters.")


@strawberry.input(description="The comment its author deletes.")
class DeleteCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="Global id of the comment deleted.")


@strawberry.type(description="The result of addComment, editComment or deleteComment.")
class CommentPayload:
    comment: Comment | None = strawberry.field(description="The comment as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the comment was refused.")


register_node("Comment", Comment.from_model)
