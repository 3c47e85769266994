"""Notifications stored per person (account), across territories."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class NotificationKind(StrEnum):
    QUESTION_ANSWERED = "QUESTION_ANSWERED"
    IDEA_STATUS_CHANGED = "IDEA_STATUS_CHANGED"
    POLL_CLOSED = "POLL_CLOSED"
    NEW_COMMENT = "NEW_COMMENT"
    CONTENT_HIDDEN = "CONTENT_HIDDEN"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    message = fields.TextField()
    read = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    account_id: int

    class Meta:
        table = "notification"
