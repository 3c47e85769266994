"""Documents that are files: uploadDocument and replaceDocument (docs/adr/0020-document-files.md).

The file's type is read from its bytes (storage/kinds.py), never from its name or the
client's Content-Type; images are re-encoded without metadata (storage/images.py) and need
their text alternative; the territory sets the largest file (Territory.upload_max_bytes,
capped by the deployment's PARVIS_UPLOAD_MAX_BYTES). The file is kept last, inside the
mutation's transaction: a store that fails rolls the rows back with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.datastructures import UploadFile
from strawberry.types import Info

from access.context import Context
from models import clock
from models.accounts import Member
from models.consultations import Consultation as ConsultationRow
from models.projects import Document as DocumentRow
from models.projects import DocumentKind as DocumentKindRow
from models.projects import DocumentVersion as VersionRow
from models.territories import Territory
from reads.documents import territory_of
from reads.nodes import load_row
from resolvers.consultations.checks import check_phase, do_touch
from resolvers.mutations import mutate
from resolvers.projects import PROJECT_EDITORS
from resolvers.validation import Checks
from schema.documents import Document, DocumentPayload, ReplaceDocumentInput, UploadDocumentInput
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id_of
from storage.files import StoreError, clean_filename, new_key
from storage.images import BadImage, without_metadata
from storage.kinds import FileKind, sniff
from storage.links import FileLinks

ALT_TEXT_MAX = 1000
# BCP 47, loosely: a 2-3 letter language, then subtags (fr, en-GB, zh-Hant-TW).
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")
UPLOAD_LIMIT = ("upload", "uploads")


def payload(row: DocumentRow | None, errors: list[UserError]) -> DocumentPayload:
    return DocumentPayload(document=Document.from_model(row) if row else None, user_errors=errors)


def check_language(checks: Checks, value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if not LANGUAGE.match(cleaned):
        checks.fail("Must be a BCP 47 language tag such as fr or en-GB.", "language")
    return cleaned


def check_alt_text(checks: Checks, value: str | None) -> str | None:
    return None if value is None else checks.text(value, "altText", max_length=ALT_TEXT_MAX)


def links_of(ctx: Context) -> FileLinks:
    if ctx.files is None:
        raise GraphQLError("No file store is configured.", extensions={"code": "STORAGE_UNAVAILABLE"})
    return ctx.files


async def upload_limit(ctx: Context, territory_id: int) -> int:
    territory = await Territory.get(id=territory_id)
    ceiling: int = ctx.settings.upload_max_bytes
    return min(territory.upload_max_bytes, ceiling)


async def check_file(file: Any, limit: int, alt_text: str | None) -> tuple[bytes, FileKind]:
    """The file's bytes (images re-encoded without metadata) and kind, or a Refusal."""
    if not isinstance(file, UploadFile):  # the Upload scalar let nothing else through
        raise Refusal.of(UserErrorCode.INVALID, "Send the file as a multipart part.", "file")
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise Refusal([UserError(field=["input", "file"], message="The file is larger than {maxBytes} bytes.",
                                 code=UserErrorCode.FILE_TOO_LARGE, max_bytes=limit, arguments={"maxBytes": limit})])
    return await check_content(data, alt_text)


async def check_content(data: bytes, alt_text: str | None) -> tuple[bytes, FileKind]:
    """`data`'s kind from its bytes, and the bytes to keep (an image without its metadata)."""
    kind = sniff(data)
    if kind is None:
        raise Refusal.of(UserErrorCode.UNSUPPORTED_TYPE,
                         "Only PDF, PNG, JPEG, WebP and office documents (docx, xlsx, pptx, odt, ods, odp).", "file")
    if kind.image:
        if not alt_text:
            raise Refusal.of(UserErrorCode.ALT_TEXT_REQUIRED, "An image needs its text alternative.", "altText")
        try:
            data = await asyncio.to_thread(without_metadata, data, kind)
        except BadImage as exc:
            raise Refusal.of(UserErrorCode.UNSUPPORTED_TYPE, exc.message, "file", **exc.params) from exc
    return data, kind


async def do_keep_version(links: FileLinks, document: DocumentRow, number: int, filename: str | None, data: bytes,
                          kind: FileKind, uploader_id: int | None) -> VersionRow:
    """The version's row, then its bytes in the store (last: a failure rolls the row back).
    `data` was checked (check_file); the demo seeds its files through here too."""
    key = new_key(clean_filename(filename, kind.extension))
    version = await VersionRow.create(
        document_id=document.id, number=number, key=key, filename=key.rsplit("/", 1)[-1],
        content_type=kind.content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=uploader_id,
    )
    try:
        await links.store.put(key, data, kind.content_type)
    except StoreError as exc:
        raise GraphQLError("The file store is unavailable; try again later.",
                           extensions={"code": "STORAGE_UNAVAILABLE"}) from exc
    return version


async def check_owner(
    ctx: Context, input: UploadDocumentInput
) -> tuple[dict[str, int], int, Member, ConsultationRow | None]:
    """The owner's column, its territory, the editor acting, and (for a phase) its consultation,
    locked: exactly one of projectId and phaseId (INVALID), one the viewer may edit."""
    if (input.project_id is None) == (input.phase_id is None):
        raise Refusal.of(UserErrorCode.INVALID, "Give exactly one of projectId and phaseId.", "projectId")
    if input.phase_id is not None:
        phase, consultation, member = await check_phase(ctx, input.phase_id)
        return {"phase_id": phase.id}, consultation.territory_id, member, consultation
    project_id = decode_id_of(input.project_id or "", "Project")
    project = await load_row(ctx, "Project", project_id) if project_id else None
    if project is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such project.", "projectId")
    member = await ctx.check_role(project.territory_id, *PROJECT_EDITORS)
    return {"project_id": project.id}, project.territory_id, member, None


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        description=(
            "Publish a file as a document of a project or of a consultation phase (officials and admins of its "
            "territory; exactly one of projectId and phaseId, else INVALID), sent as a "
            "multipart request with the header `Apollo-Require-Preflight: true`. Its type is read from its "
            "content; images need altText and are stored without their metadata (EXIF, GPS)."
        )
    )
    async def upload_document(self, info: Info[Context, None], input: UploadDocumentInput) -> DocumentPayload:
        ctx = info.context

        async def work() -> DocumentRow:
            ctx.require_account()
            owner, territory_id, member, consultation = await check_owner(ctx, input)
            checks = Checks()
            title = checks.title(input.title, "title")
            language = check_language(checks, input.language)
            alt_text = check_alt_text(checks, input.alt_text)
            checks.done()
            data, kind = await check_file(input.file, await upload_limit(ctx, territory_id), alt_text)
            document = await DocumentRow.create(
                project_id=owner.get("project_id"), phase_id=owner.get("phase_id"), title=title, url=None, kind=DocumentKindRow(input.kind.name),
                language=language, alt_text=alt_text, draft=input.draft,
            )
            await do_keep_version(links_of(ctx), document, 1, getattr(input.file, "filename", None), data, kind, member.id)
            if consultation is not None:
                await do_touch(ctx, consultation)
            return document

        return await mutate(ctx, work, payload, limit=UPLOAD_LIMIT)

    @strawberry.mutation(
        description=(
            "Give a document a new file (officials and admins of its territory); the previous files stay in "
            "its `versions`. Checked as uploadDocument checks a file; a link document becomes a file."
        )
    )
    async def replace_document(self, info: Info[Context, None], input: ReplaceDocumentInput) -> DocumentPayload:
        ctx = info.context

        async def work() -> DocumentRow:
            ctx.require_account()
            document_id = decode_id_of(input.document_id, "Document")
            found = await load_row(ctx, "Document", document_id) if document_id else None
            territory_id = await territory_of(ctx.loaders, found) if found is not None else None
            if found is None or territory_id is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such document.", "documentId")
            member = await ctx.check_role(territory_id, *PROJECT_EDITORS)
            # The row locked (PostgreSQL): two replacements at once number their versions in turn.
            document = await DocumentRow.filter(id=found.id).select_for_update().first()
            if document is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such document.", "documentId")
            checks = Checks()
            if input.title is not None:
                document.title = checks.title(input.title, "title")
            language = check_language(checks, input.language)
            if language is not None:
                document.language = language
            alt_text = check_alt_text(checks, input.alt_text)
            if alt_text is not None:
                document.alt_text = alt_text
            checks.done()
            if input.draft is not None:
                document.draft = input.draft
            data, kind = await check_file(input.file, await upload_limit(ctx, territory_id), document.alt_text)
            last = await VersionRow.filter(document_id=document.id).order_by("-number").first()
            document.url = None
            document.updated_at = clock.now()
            await document.save()
            number = (last.number if last else 0) + 1
            await do_keep_version(links_of(ctx), document, number, getattr(input.file, "filename", None), data, kind, member.id)
            return document

        return await mutate(ctx, work, payload, limit=UPLOAD_LIMIT)
