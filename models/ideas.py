"""Ideas citizens propose, and who supports them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.references import Referenced

if TYPE_CHECKING:
    from models.accounts import Member
    from models.projects import Project
    from models.territories import Territory


class IdeaStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    REALIZED = "REALIZED"
    REJECTED = "REJECTED"


class Idea(Referenced):
    reference_kind = "Idea"

    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="ideas"
    )
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField("models.Member", related_name="ideas")
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="ideas", null=True
    )
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(IdeaStatus, default=IdeaStatus.SUBMITTED, max_length=16)
    status_note = fields.TextField(null=True)
    # Maintained with atomic increments beside the Support rows (never read-modify-write).
    support_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    realized_at = fields.DatetimeField(null=True)
    hidden = fields.BooleanField(default=False)
    # Moved by its author's edits and by status changes; null until the first (see Question).
    updated_at = fields.DatetimeField(null=True)
    # As on Question: last edit of its text, deletion by its author, reference (I-2026-0007).
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    reference = fields.CharField(max_length=24, null=True)

    territory_id: int
    author_id: int
    project_id: int | None

    class Meta:
        table = "idea"
        unique_together = (("territory_id", "reference"),)


class Support(Model):
    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "models.Idea", related_name="supports", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="supports"
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    idea_id: int
    member_id: int

    class Meta:
        table = "support"
        unique_together = (("idea", "member"),)
