"""Ideas citizens propose, and who supports them."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class IdeaStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    REALIZED = "REALIZED"
    REJECTED = "REJECTED"


class Idea(Model):
    id = fields.IntField(primary_key=True)
    territory = fields.ForeignKeyField("models.Territory", related_name="ideas")
    author = fields.ForeignKeyField("models.Member", related_name="ideas")
    project = fields.ForeignKeyField("models.Project", related_name="ideas", null=True)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(IdeaStatus, default=IdeaStatus.SUBMITTED, max_length=16)
    status_note = fields.TextField(null=True)
    # Maintained with atomic increments beside the Support rows (never read-modify-write).
    support_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    realized_at = fields.DatetimeField(null=True)
    hidden = fields.BooleanField(default=False)

    territory_id: int
    author_id: int
    project_id: int | None

    class Meta:
        table = "idea"


class Support(Model):
    id = fields.IntField(primary_key=True)
    idea = fields.ForeignKeyField("models.Idea", related_name="supports", on_delete=fields.CASCADE)
    member = fields.ForeignKeyField("models.Member", related_name="supports")
    created_at = fields.DatetimeField(auto_now_add=True)

    idea_id: int
    member_id: int

    class Meta:
        table = "support"
        unique_together = (("idea", "member"),)
