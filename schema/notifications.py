"""Notifications: what happened to a person's questions, ideas, polls and content."""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from models import notifications as mn
from schema.relay import Node, encode_id
from schema.scalars import DateTime

# Kind -> (model, API type) of what a notification can be about, for the fallback below.
_SUBJECTS: dict[str, tuple[str, str]] = {
    "Question": ("models.questions:Question", "schema.questions:Question"),
    "Reply": ("models.questions:Reply", "schema.questions:Reply"),
    "Idea": ("models.ideas:Idea", "schema.ideas:Idea"),
    "Project": ("models.projects:Project", "schema.projects:Project"),
    "Poll": ("models.polls:Poll", "schema.polls:Poll"),
    "NewsPost": ("models.news:NewsPost", "schema.news:NewsPost"),
    "Comment": ("models.comments:Comment", "schema.comments:Comment"),
}


def _attr(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@strawberry.enum(description="What a notification is about.")
class NotificationKind(Enum):
    QUESTION_ANSWERED = strawberry.enum_value(
        "QUESTION_ANSWERED", description="An official replied to your question."
    )
    IDEA_STATUS_CHANGED = strawberry.enum_value(
        "IDEA_STATUS_CHANGED", description="Your idea moved on (under review, accepted, realized...)."
    )
    POLL_CLOSED = strawberry.enum_value(
        "POLL_CLOSED", description="A poll you voted in closed: its final results are out."
    )
    NEW_COMMENT = strawberry.enum_value(
        "NEW_COMMENT", description="Someone commented on what you wrote or published."
    )
    CONTENT_HIDDEN = strawberry.enum_value(
        "CONTENT_HIDDEN", description="A moderator hid something you wrote, with their reason."
    )


@strawberry.type(description="Something that happened which concerns the viewer.")
class Notification(Node):
    id: strawberry.ID = strawberry.field(description="The notification's global id.")
    kind: NotificationKind = strawberry.field(description="What the notification is about.")
    message: str = strawberry.field(description="What happened, for people.")
    read: bool = strawberry.field(description="Whether the viewer marked it read.")
    created_at: DateTime = strawberry.field(description="When it happened.")
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    subject_type: strawberry.Private[str]
    subject_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mn.Notification) -> Notification:
        return cls(
            id=strawberry.ID(encode_id("Notification", row.id)),
            kind=NotificationKind(row.kind.value if isinstance(row.kind, Enum) else row.kind),
            message=row.message,
            read=row.read,
            created_at=row.created_at,
            pk=row.id,
            account_pk=row.account_id,
            subject_type=row.subject_type,
            subject_pk=row.subject_id,
        )

    @strawberry.field(
        description=(
            "What the notification is about: for NEW_COMMENT the commented item, for "
            "CONTENT_HIDDEN the content a moderator hid."
        )
    )
    async def subject(self, info: Info) -> Node:
        node = await info.context.load_node(self.subject_type, self.subject_pk)
        if node is not None:
            return node  # type: ignore[no-any-return]
        # Notifications are private to their recipient and point at what they were told
        # about; moderation may hide it since (CONTENT_HIDDEN points at the hidden content
        # itself). The recipient still sees it here, never through node() or listings,
        # so that one hidden subject does not break their whole inbox.
        known = _SUBJECTS.get(self.subject_type)
        account = info.context.account
        if known is not None and account is not None and account.id == self.account_pk:
            model, api_type = known
            row = await info.context.loaders.by_id(_attr(model)).load(self.subject_pk)
            if row is not None:
                return _attr(api_type).from_model(row)  # type: ignore[no-any-return]
        raise GraphQLError("This notification's subject no longer exists.", extensions={"code": "NOT_FOUND"})


@strawberry.input(description="Which notifications to mark read.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The notifications to mark read; null marks all the viewer's unread."
    )
