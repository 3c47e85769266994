"""Projects officials publish, with their budget and documents."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.territories import Territory


class DocumentKind(StrEnum):
    DOCUMENT = "DOCUMENT"
    BUDGET = "BUDGET"
    MAP = "MAP"
    REPORT = "REPORT"


class Project(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="projects"
    )
    created_by: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="projects"
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    budget_amount = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    budget_currency = fields.CharField(max_length=3, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    hidden = fields.BooleanField(default=False)

    territory_id: int
    created_by_id: int

    class Meta:
        table = "project"


class Document(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="documents", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    url = fields.CharField(max_length=2000)
    kind = fields.CharEnumField(DocumentKind, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    project_id: int

    class Meta:
        table = "document"
