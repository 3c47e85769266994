"""Questions citizens ask their officials, and the officials' public replies."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class QuestionStatus(StrEnum):
    OPEN = "OPEN"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"


class Question(Model):
    id = fields.IntField(primary_key=True)
    territory = fields.ForeignKeyField("models.Territory", related_name="questions")
    author = fields.ForeignKeyField("models.Member", related_name="questions_asked")
    official = fields.ForeignKeyField(
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

    territory_id: int
    author_id: int
    official_id: int | None

    class Meta:
        table = "question"


class Reply(Model):
    id = fields.IntField(primary_key=True)
    # One reply per question, enforced by the database.
    question = fields.OneToOneField("models.Question", related_name="reply")
    official = fields.ForeignKeyField("models.Member", related_name="replies")
    territory = fields.ForeignKeyField("models.Territory", related_name="replies")
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
