"""What an uploaded file is, read from its bytes (never from its name or the client's
Content-Type): PDF, PNG, JPEG, WebP, and the zip-based office formats (OOXML: docx, xlsx,
pptx; OpenDocument: odt, ods, odp). Anything else is refused (UNSUPPORTED_TYPE)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    # Images are re-encoded without metadata and need a text alternative.
    image: bool = False
    # Shown in the browser (Content-Disposition: inline) or downloaded (attachment).
    inline: bool = False


PDF = FileKind("application/pdf", "pdf", inline=True)
PNG = FileKind("image/png", "png", image=True, inline=True)
JPEG = FileKind("image/jpeg", "jpg", image=True, inline=True)
WEBP = FileKind("image/webp", "webp", image=True, inline=True)
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = FileKind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
ODT = FileKind("application/vnd.oasis.opendocument.text", "odt")
ODS = FileKind("application/vnd.oasis.opendocument.spreadsheet", "ods")
ODP = FileKind("application/vnd.oasis.opendocument.presentation", "odp")

KINDS = (PDF, PNG, JPEG, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP)
BY_CONTENT_TYPE = {kind.content_type: kind for kind in KINDS}

# The part of an OOXML package that says which application it belongs to.
_OOXML_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
_OPENDOCUMENT = {ODT.content_type: ODT, ODS.content_type: ODS, ODP.content_type: ODP}
# A zip with more members than this is not an office document we accept (zip bombs list many).
_MAX_ZIP_MEMBERS = 10_000


def sniff(data: bytes) -> FileKind | None:
    """The kind of `data` by its magic bytes (and, for zips, their first members), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return None


def _office(data: bytes) -> FileKind | None:
    """An OOXML or OpenDocument package, told by its members' names (the central directory
    only: nothing is decompressed but OpenDocument's small `mimetype` member)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_ZIP_MEMBERS:
                return None
            names = {info.filename for info in infos}
            if infos and infos[0].filename == "mimetype" and infos[0].file_size <= 100:
                declared = archive.read(infos[0]).decode("ascii", "replace").strip()
                return _OPENDOCUMENT.get(declared)
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML_PARTS:
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError, EOFError):
        return None
    return None
