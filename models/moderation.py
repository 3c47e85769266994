"""Reports of content that breaks the charter, and what moderators decided."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.territories import Territory


class ReportStatus(StrEnum):
    PENDING = "PENDING"
    HIDDEN = "HIDDEN"
    DISMISSED = "DISMISSED"


class Report(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="reports"
    )
    reporter: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="reports_made"
    )
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    reason = fields.TextField()
    status = fields.CharEnumField(ReportStatus, default=ReportStatus.PENDING, max_length=16)
    decision_reason = fields.TextField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="decisions", null=True
    )
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    territory_id: int
    reporter_id: int

    class Meta:
        table = "report"
