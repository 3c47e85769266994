"""Documents: links, or files with their versions (docs/adr/0020-document-files.md), and the
`Upload` scalar of the GraphQL multipart request spec."""

from __future__ import annotations

import datetime as dt
import time
from enum import Enum
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from access.context import Context
from models import projects as mpr
from models.clock import as_utc
from reads.documents import is_public
from schema.errors import UserError
from schema.relay import Node, encode_id, register_node
from storage.links import FileLinks


@strawberry.enum(description="What a project document is.")
class DocumentKind(Enum):
    DOCUMENT = strawberry.enum_value("DOCUMENT", description="Any other document.")
    BUDGET = strawberry.enum_value("BUDGET", description="A budget or a financial statement.")
    MAP = strawberry.enum_value("MAP", description="A map or a plan.")
    REPORT = strawberry.enum_value("REPORT", description="A study, an assessment or minutes.")


@strawberry.type(description="One uploaded file of a document; replacing the document adds one.")
class DocumentVersion:
    number: int = strawberry.field(description="1 for the first upload, then 2, 3...")
    filename: str = strawberry.field(description="The file's name, cleaned, with the extension of its type.")
    size: int = strawberry.field(description="Its size in bytes (after image metadata was removed).")
    content_type: str = strawberry.field(description="Its media type, read from its content (e.g. application/pdf).")
    uploaded_at: dt.datetime = strawberry.field(description="When it was uploaded.")
    url: str = strawberry.field(
        description="Where to read it: a stable URL for public documents, an expiring signed one for drafts "
        "and hidden content."
    )


def file_url(links: FileLinks | None, key: str, public: bool) -> str:
    if links is None:  # a context without an app (tests of the schema alone)
        return f"/files/{key}"
    return links.public_url(key) if public else links.signed_url(key, time.time())


def version_of(row: mpr.DocumentVersion, links: FileLinks | None, public: bool) -> DocumentVersion:
    return DocumentVersion(
        number=row.number, filename=row.filename, size=row.size, content_type=row.content_type,
        uploaded_at=row.uploaded_at, url=file_url(links, row.key, public),
    )


@strawberry.type(
    description="A document published with a project or a consultation phase: a link, or a file with its versions."
)
class Document(Node):
    id: strawberry.ID = strawberry.field(description="The document's global id.")
    title: str = strawberry.field(description="The document's title.")
    kind: DocumentKind = strawberry.field(description="What the document is.")
    language: str | None = strawberry.field(description="Its language as a BCP 47 tag (fr, en-GB); null if unsaid.")
    alt_text: str | None = strawberry.field(description="For images: the text that stands for them; else null.")
    draft: bool = strawberry.field(
        description="A draft is read only by the territory's officials, admins and moderators, by signed URLs."
    )
    updated_at: dt.datetime = strawberry.field(
        description="When a new version replaced its file (replaceDocument); its creation until then."
    )
    row: strawberry.Private[Any]

    @classmethod
    def from_model(cls, row: mpr.Document) -> Document:
        return cls(
            id=strawberry.ID(encode_id("Document", row.id)),
            title=row.title,
            kind=DocumentKind(row.kind.value if isinstance(row.kind, mpr.DocumentKind) else row.kind),
            language=row.language,
            alt_text=row.alt_text,
            draft=row.draft,
            updated_at=as_utc(row.updated_at or row.created_at),
            row=row,
        )

    async def _versions(self, info: Info[Context, None]) -> tuple[list[mpr.DocumentVersion], bool]:
        rows = await info.context.loaders.versions_by_document.load(self.row.id)
        public = await is_public(info.context.loaders, self.row) if rows else True
        return rows, public

    @strawberry.field(
        description="Where to read the document (http or https): its link, or its current file's URL (signed and "
        "expiring for drafts)."
    )
    async def url(self, info: Info[Context, None]) -> str:
        rows, public = await self._versions(info)
        if not rows:
            return str(self.row.url or "")
        return file_url(info.context.files, rows[-1].key, public)

    @strawberry.field(description="The file as it now stands; null for a link document.")
    async def current_version(self, info: Info[Context, None]) -> DocumentVersion | None:
        rows, public = await self._versions(info)
        return version_of(rows[-1], info.context.files, public) if rows else None

    @strawberry.field(description="Every file the document has had, oldest first; empty for a link document.")
    async def versions(self, info: Info[Context, None]) -> list[DocumentVersion]:
        rows, public = await self._versions(info)
        return [version_of(row, info.context.files, public) for row in rows]


@strawberry.input(
    description="A file to publish as a document of a project or of a consultation phase (a multipart request)."
)
class UploadDocumentInput:
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="The project's global id; give exactly one of projectId and phaseId."
    )
    phase_id: strawberry.ID | None = strawberry.field(
        default=None, description="The consultation phase's global id; give exactly one of projectId and phaseId."
    )
    file: Upload = strawberry.field(
        description="The file: PDF, PNG, JPEG, WebP, or an office document (docx, xlsx, pptx, odt, ods, odp), "
        "within the territory's size limit; its type is read from its content."
    )
    title: str = strawberry.field(description="The document's title (1 to 200 characters).")
    kind: DocumentKind = strawberry.field(default=DocumentKind.DOCUMENT, description="What the document is.")
    language: str | None = strawberry.field(default=None, description="Its language, a BCP 47 tag (fr, en-GB).")
    alt_text: str | None = strawberry.field(
        default=None, description="Required for images (1 to 1,000 characters): what the image shows."
    )
    draft: bool = strawberry.field(
        default=False, description="Keep it a draft: read only by the territory's editors and moderators."
    )


@strawberry.input(description="A new file for a document: its history keeps the previous ones.")
class ReplaceDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document's global id.")
    file: Upload = strawberry.field(description="The new file, checked as uploadDocument checks one.")
    title: str | None = strawberry.field(default=None, description="A new title; unchanged when null.")
    language: str | None = strawberry.field(default=None, description="A new language tag; unchanged when null.")
    alt_text: str | None = strawberry.field(
        default=None, description="A new text alternative; required when the new file is an image and none was given."
    )
    draft: bool | None = strawberry.field(
        default=None, description="false publishes a draft, true makes it a draft again; unchanged when null."
    )


@strawberry.type(description="The result of a mutation on a document.")
class DocumentPayload:
    document: Document | None = strawberry.field(description="The document as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


register_node("Document", Document.from_model)
