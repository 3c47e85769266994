"""The territory's feed as rows of its own.

A row per published item (news post, new poll, official reply, new project, idea that
reached REALIZED), so the feed is one indexed scan with stable cursors (the row id),
and a reconnecting subscriber can be replayed everything after its cursor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.territories import Territory


class FeedEntry(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="feed_entries"
    )
    subject_type = fields.CharField(max_length=16)
    subject_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # Follows the subject's moderation state, so hidden items leave the feed.
    hidden = fields.BooleanField(default=False)

    territory_id: int

    class Meta:
        table = "feed_entry"
        indexes = (("territory_id", "id"), ("subject_type", "subject_id"))
