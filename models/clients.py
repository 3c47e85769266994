"""Trusted documents: the operations a deployment's own apps registered, by sha256.

When a deployment turns trusted documents on (PARVIS_TRUSTED_DOCUMENTS), only these run.
"""

from tortoise import fields
from tortoise.models import Model


class TrustedDocument(Model):
    # The document's sha256, hex: what apps send instead of the document.
    hash = fields.CharField(max_length=64, primary_key=True)
    document = fields.TextField()
    # Which app's manifest registered it ("web 2.3.0"), for operators.
    client = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "trusted_document"
