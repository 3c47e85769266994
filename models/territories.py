"""A territory: a town or an agglomeration with its participation charter."""

from tortoise import fields
from tortoise.models import Model


class Territory(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    population = fields.IntField(null=True)
    charter = fields.TextField(null=True)
    # The charter's promise: officials reply to a question within this many days.
    reply_deadline_days = fields.IntField(default=15)
    # Members must confirm their email before they write (they may still read and join).
    email_verification_required = fields.BooleanField(default=False)
    # The secret ballot's K: a poll's per-option counts move only by batches of at least this
    # many ballots, mixed across voters (docs/adr/0009). 1 turns the mixing off.
    ballot_batch = fields.IntField(default=5)
    # The largest file a document upload may hold (bytes); the deployment's
    # PARVIS_UPLOAD_MAX_BYTES caps it.
    upload_max_bytes = fields.IntField(default=20 * 1024 * 1024)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set by updateTerritory (Territory.updatedAt); null until the first change.
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "territory"
