"""Notifications: what happened to a person's questions, ideas, polls and content."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from models import notifications as mn
from reads.nodes import notification_subject
from schema.relay import Node, as_node, encode_id, register_node


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
    QUESTION_DUE = strawberry.enum_value(
        "QUESTION_DUE",
        description=(
            "A reminder to an official the day before a question addressed to them falls due. "
            "By email only (IMMEDIATELY or NEVER); never a notification in the app."
        ),
    )
    REPORTS_OPEN = strawberry.enum_value(
        "REPORTS_OPEN",
        description=(
            "A daily reminder to moderators and admins of the reports still open in their territory. "
            "By email only (IMMEDIATELY or NEVER); never a notification in the app."
        ),
    )
    CONSULTATION_PHASE_STARTED = strawberry.enum_value(
        "CONSULTATION_PHASE_STARTED", description="A new phase of a consultation you follow has started."
    )
    OUTCOME_PUBLISHED = strawberry.enum_value(
        "OUTCOME_PUBLISHED",
        description="A consultation phase's outcome answers your contribution, or a consultation you follow.",
    )


@strawberry.type(description="Something that happened which concerns the viewer.")
class Notification(Node):
    id: strawberry.ID = strawberry.field(description="The notification's global id.")
    kind: NotificationKind = strawberry.field(description="What the notification is about.")
    message: str = strawberry.field(description="What happened, for people.")
    read: bool = strawberry.field(description="Whether the viewer marked it read.")
    created_at: dt.datetime = strawberry.field(description="When it happened.")
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    subject_type: strawberry.Private[str]
    subject_pk: strawberry.Private[int]
    row: strawberry.Private[mn.Notification]

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
            row=row,
        )

    @strawberry.field(
        description=(
            "What the notification is about: for NEW_COMMENT the commented item, for "
            "CONTENT_HIDDEN the content a moderator hid."
        )
    )
    async def subject(self, info: Info[Context, None]) -> Node:
        # Notifications are private to their recipient; a notification whose subject is hidden
        # from them is itself hidden (reads/nodes.py), so a listed one shows its subject:
        # CONTENT_HIDDEN shows the recipient their own content that a moderator hid.
        visible, row = await notification_subject(info.context, self.row)
        if not visible or row is None:
            raise not_found("This notification's subject no longer exists.")
        return as_node(self.subject_type, row)


@strawberry.input(description="Which notifications to mark read.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The notifications to mark read; null marks all the viewer's unread."
    )


register_node("Notification", Notification.from_model)
