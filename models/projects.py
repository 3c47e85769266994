"""Projects officials publish, with their budget and documents."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.consultations import ConsultationPhase
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


# A document: a link (`url`) or a file with its versions (docs/adr/0020-document-files.md).
# Its owner is one of nullable foreign keys, exactly one set: a project, or a consultation's
# phase; `reads.documents.owner_of` is the one place that reads them.
class Document(Model):

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="documents", on_delete=fields.CASCADE, null=True
    )
    phase: fields.ForeignKeyNullableRelation[ConsultationPhase] = fields.ForeignKeyField(
        "models.ConsultationPhase", related_name="documents", on_delete=fields.CASCADE, null=True
    )
    title = fields.CharField(max_length=200)
    # Link documents only; a file document's address is its current version's (storage/).
    url = fields.CharField(max_length=2000, null=True)
    kind = fields.CharEnumField(DocumentKind, max_length=16)
    # A BCP 47 tag (fr, en, fr-FR) and, for images, their text alternative.
    language = fields.CharField(max_length=35, null=True)
    alt_text = fields.TextField(null=True)
    # Drafts are read by the territory's editors and staff only, by expiring signed URLs.
    draft = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set by replaceDocument (Document.updatedAt); null until then.
    updated_at = fields.DatetimeField(null=True)

    project_id: int | None
    phase_id: int | None

    class Meta:
        table = "document"


# One uploaded file of a document; the newest (highest number) is the current one.
class DocumentVersion(Model):
    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name="versions", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    # Where the bytes are in the store (storage/files.py): chosen by the server, never by the client.
    key = fields.CharField(max_length=300, unique=True)
    filename = fields.CharField(max_length=120)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="document_versions", on_delete=fields.SET_NULL, null=True
    )
    uploaded_at = fields.DatetimeField(auto_now_add=True)

    document_id: int
    uploaded_by_id: int | None

    class Meta:
        table = "document_version"
        unique_together = (("document", "number"),)
