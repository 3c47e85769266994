"""The HTTP rules of /graphql before GraphQL: which bodies it takes (JSON; multipart uploads
only with the preflight header, under tight limits), how it refuses (HttpRefusal, answered in
the reader's language), and what GraphQL over HTTP asks of the status codes (app/view.py)."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from app.observability import Metrics

JSON_MEDIA_TYPES = ("application/json", "application/graphql-response+json")
MULTIPART = "multipart/form-data"
# A multipart POST is a "simple" request a foreign page may send without a preflight (CSRF):
# one is accepted only with this header, which no browser lets a page add without one.
PREFLIGHT_HEADER = "apollo-require-preflight"


class HttpRefusal(HTTPException):
    """An HTTP refusal whose reason is a catalogue msgid with its parameters: answered in JSON
    in the request's language (Accept-Language, else PARVIS_LOCALE)."""

    def __init__(self, status_code: int, msgid: str, **params: Any) -> None:
        super().__init__(status_code, msgid.format(**params))
        self.msgid = msgid
        self.params = params


# The parts of an upload request: operations, map, and at most this many files.
MAX_UPLOAD_FILES = 2
MAX_FORM_FIELDS = 4
MAX_FORM_FIELD_BYTES = 256 * 1024


def wants_graphql_response_json(accept: str) -> bool:
    """Whether the client asked for application/graphql-response+json (GraphQL over HTTP)."""
    return any(
        part.split(";")[0].strip().lower() == "application/graphql-response+json" for part in accept.split(",")
    )


def is_request_error(response_data: dict[str, Any]) -> bool:
    """A parse or validation failure (no execution happened): no data, no error path."""
    errors = response_data.get("errors") or []
    return response_data.get("data") is None and bool(errors) and all("path" not in e for e in errors) and all(
        (e.get("extensions") or {}).get("code") not in ("UNAUTHENTICATED", "TIMEOUT", "INTERNAL_SERVER_ERROR")
        for e in errors
    )


def content_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def check_multipart(request: Request, metrics: Metrics) -> None:
    """A multipart (upload) request needs the preflight header, and its form is read here
    with tight limits (Starlette's defaults allow 1,000 files): Strawberry reads the same
    parsed form afterwards."""
    if request.method != "POST" or content_type(request) != MULTIPART:
        return
    if not request.headers.get(PREFLIGHT_HEADER):
        metrics.inc("parvis_http_rejected_total", reason="preflight")
        # 415 as for any body a foreign page may post without a preflight.
        raise HttpRefusal(415, "Multipart requests need the header `{header}: true` (CSRF).", header=PREFLIGHT_HEADER)
    try:
        form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_FORM_FIELDS,
                                  max_part_size=MAX_FORM_FIELD_BYTES)
    except StarletteHTTPException as exc:
        raise HttpRefusal(400, "Unreadable multipart body: {detail}", detail=exc.detail) from None
    except MultiPartException as exc:  # outside a Starlette app
        raise HttpRefusal(400, "Unreadable multipart body: {detail}", detail=exc.message) from None
    for name in ("operations", "map"):
        if not isinstance(form.get(name), str):
            raise HttpRefusal(400, "A multipart GraphQL request needs the `{field}` field (JSON).", field=name)
    try:
        files_map = orjson.loads(str(form["map"]))
    except orjson.JSONDecodeError:
        raise HttpRefusal(400, "The multipart `map` must be JSON.") from None
    # Strawberry would answer a malformed map with a 500: {"0": ["variables.file"]} only.
    if not isinstance(files_map, dict) or not all(
        isinstance(paths, list) and all(isinstance(p, str) and p.startswith("variables.") for p in paths)
        and isinstance(form.get(part), UploadFile)
        for part, paths in files_map.items()
    ):
        raise HttpRefusal(400, "The multipart `map` must name file parts and variables.* paths.")
