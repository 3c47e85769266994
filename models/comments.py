"""Comments on questions, ideas, projects and news posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.territories import Territory


class Comment(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="comments"
    )
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="comments"
    )
    # The commented item, by kind ("Question", "Idea", "Project", "NewsPost") and id.
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    hidden = fields.BooleanField(default=False)
    # When its author last edited it (null: never), and deleted it: a deleted comment keeps
    # its place in the thread, its body emptied.
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    territory_id: int
    author_id: int

    class Meta:
        table = "comment"
        indexes = (("subject_type", "subject_id"),)
