"""News posts officials publish."""

from tortoise import fields
from tortoise.models import Model


class NewsPost(Model):
    id = fields.IntField(primary_key=True)
    territory = fields.ForeignKeyField("models.Territory", related_name="news")
    author = fields.ForeignKeyField("models.Member", related_name="news")
    project = fields.ForeignKeyField("models.Project", related_name="news", null=True)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    published_at = fields.DatetimeField(auto_now_add=True)
    hidden = fields.BooleanField(default=False)

    territory_id: int
    author_id: int
    project_id: int | None

    class Meta:
        table = "news_post"
