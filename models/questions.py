"""Questions citizens ask their officials, and the officials' public replies."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.references import Referenced

if TYPE_CHECKING:
    from models.accounts import Member
    from models.territories import Territory


def due_date(asked: dt.datetime, reply_deadline_days: int) -> dt.datetime:
    """When a question asked at `asked` is due: the charter's deadline as it was then."""
    return asked + dt.timedelta(days=reply_deadline_days)


def reply_timing(asked: dt.datetime, due: dt.datetime, answered: dt.datetime) -> tuple[bool, int]:
    """Whether a reply given at `answered` kept the charter's promise, and how many seconds
    the official took (what the stats and officials' records are made of)."""
    return answered <= due, max(0, int((answered - asked).total_seconds()))


class QuestionStatus(StrEnum):
    OPEN = "OPEN"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"


class Question(Referenced):
    reference_kind = "Question"

    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="questions"
    )
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="questions_asked"
    )
    official: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="questions_addressed", null=True
    )
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(QuestionStatus, default=QuestionStatus.OPEN, max_length=16)
    closed_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    # Fixed when asked, from the deadline the charter promised at that time.
    due_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    hidden = fields.BooleanField(default=False)
    # Moved by its author's edits and by status changes; null until the first (the API
    # answers createdAt then, so rows older than the column need no backfill).
    updated_at = fields.DatetimeField(null=True)
    # When its author last changed its text (null: never edited).
    edited_at = fields.DatetimeField(null=True)
    # When its author deleted it: then hidden too, so every read leaves it out as it does
    # hidden content (its territory's staff keep it, as evidence for reports).
    deleted_at = fields.DatetimeField(null=True)
    # Q-2026-0042: see models/references.py (null only while being created).
    reference = fields.CharField(max_length=24, null=True)

    territory_id: int
    author_id: int
    official_id: int | None

    class Meta:
        table = "question"
        # Counting the open questions not yet due (reads/stats.py).
        indexes = (("territory_id", "status", "due_at"),)
        unique_together = (("territory_id", "reference"),)


class Reply(Model):
    id = fields.IntField(primary_key=True)
    # One reply per question, enforced by the database.
    question: fields.OneToOneRelation[Question] = fields.OneToOneField(
        "models.Question", related_name="reply"
    )
    official: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="replies"
    )
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="replies"
    )
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    on_time = fields.BooleanField()
    reply_seconds = fields.IntField()
    hidden = fields.BooleanField(default=False)

    question_id: int
    official_id: int
    territory_id: int

    class Meta:
        table = "reply"
