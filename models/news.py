"""News posts officials publish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.projects import Project
    from models.territories import Territory


class NewsPost(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="news"
    )
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField("models.Member", related_name="news")
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="news", null=True
    )
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    published_at = fields.DatetimeField(auto_now_add=True)
    hidden = fields.BooleanField(default=False)

    territory_id: int
    author_id: int
    project_id: int | None

    class Meta:
        table = "news_post"
