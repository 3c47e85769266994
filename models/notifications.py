"""Notifications stored per person (account), across territories."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Account


class NotificationKind(StrEnum):
    QUESTION_ANSWERED = "QUESTION_ANSWERED"
    IDEA_STATUS_CHANGED = "IDEA_STATUS_CHANGED"
    POLL_CLOSED = "POLL_CLOSED"
    NEW_COMMENT = "NEW_COMMENT"
    CONTENT_HIDDEN = "CONTENT_HIDDEN"
    # Reminders (delivery/reminders.py): mailed, never stored as notifications; kinds so that
    # a person can turn them off like the rest (a preference, an unsubscribe link).
    QUESTION_DUE = "QUESTION_DUE"
    REPORTS_OPEN = "REPORTS_OPEN"
    CONSULTATION_PHASE_STARTED = "CONSULTATION_PHASE_STARTED"
    OUTCOME_PUBLISHED = "OUTCOME_PUBLISHED"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    message = fields.TextField()
    read = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When a live `notifications` stream first handed it to one of the recipient's open
    # sockets: an email of it would repeat what the app already showed (delivery/notification_mail.py).
    shown_at = fields.DatetimeField(null=True)

    account_id: int

    class Meta:
        table = "notification"
