"""Multipart uploads as a client sends them (the GraphQL multipart request spec), and the
files the stories upload: made here, byte by byte or with Pillow."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
from PIL import ExifTags, Image

from models.accounts import Role
from models.territories import Territory
from tests.factories import Persona, make_person, make_territory
from tests.projects.stories import create

VERSION_FIELDS = "number filename size contentType uploadedAt url"
DOCUMENT_FIELDS = f"id title url kind language altText draft currentVersion {{ {VERSION_FIELDS} }} versions {{ {VERSION_FIELDS} }}"

UPLOAD = f"""
mutation Upload($input: UploadDocumentInput!) {{
  uploadDocument(input: $input) {{
    document {{ {DOCUMENT_FIELDS} }}
    userErrors {{ field message code maxBytes }}
  }}
}}
"""

REPLACE = f"""
mutation Replace($input: ReplaceDocumentInput!) {{
  replaceDocument(input: $input) {{
    document {{ {DOCUMENT_FIELDS} }}
    userErrors {{ field message code maxBytes }}
  }}
}}
"""

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# A Windows executable's first bytes ("MZ", then a DOS stub).
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 4
GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (45.0, 45.0, 36.0),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (4.0, 50.0, 24.0)}


def image_with_gps(fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    """A small image whose EXIF holds a GPS position and the camera's make."""
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Spycam"
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def exif_of(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())


def docx() -> bytes:
    """The smallest package a word processor would call a docx (OOXML)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


async def post_multipart(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], files: dict[str, tuple[str, bytes, str]],
    token: str | None, *, preflight: bool = True, files_map: dict[str, list[str]] | None = None,
) -> httpx.Response:
    """One multipart GraphQL request: `files` by variable path (input.file -> a part)."""
    parts = {str(i): spec for i, spec in enumerate(files.values())}
    mapping = files_map if files_map is not None else {str(i): [f"variables.{path}"] for i, path in enumerate(files)}
    data = {"operations": json.dumps({"query": query, "variables": variables}), "map": json.dumps(mapping)}
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if preflight:
        headers["Apollo-Require-Preflight"] = "true"
    return await http.post("/graphql", data=data, files=parts, headers=headers)


async def upload(
    http: httpx.AsyncClient, token: str | None, project_id: str, content: bytes, *,
    filename: str = "plan.pdf", content_type: str = "application/pdf", **fields: Any,
) -> dict[str, Any]:
    """uploadDocument; returns the JSON answer (the request must be answered 200)."""
    variables = {"input": {"projectId": project_id, "title": "SCoT draft", "file": None, **fields}}
    response = await post_multipart(http, UPLOAD, variables, {"input.file": (filename, content, content_type)}, token)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def replace(
    http: httpx.AsyncClient, token: str | None, document_id: str, content: bytes, *,
    filename: str = "plan-v2.pdf", content_type: str = "application/pdf", **fields: Any,
) -> dict[str, Any]:
    variables = {"input": {"documentId": document_id, "file": None, **fields}}
    response = await post_multipart(http, REPLACE, variables, {"input.file": (filename, content, content_type)}, token)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def project_with_odile(gql: Any, **territory: Any) -> tuple[Territory, Persona, str]:
    """A territory, odile its official, and her project (no documents yet)."""
    place = await make_territory(**territory)
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    created = await create(gql, odile.token, place, documents=[])
    project = created["data"]["createProject"]["project"]
    return place, odile, project["id"]


def path_of(url: str) -> str:
    """The path and query of a file URL, for the test client (the app's base URL is its own)."""
    parsed = httpx.URL(url)
    return parsed.raw_path.decode()


def files_under(folder: str) -> list[Path]:
    """Every file and folder of the store, to show a refusal kept nothing."""
    return sorted(Path(folder).rglob("*"))


def stored(folder: str, key: str) -> bytes:
    """The bytes the local store keeps under `key`, read from the disk."""
    return (Path(folder) / key).read_bytes()


def stored_path(folder: str, key: str) -> Path:
    return (Path(folder) / key).resolve()
