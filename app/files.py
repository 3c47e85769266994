"""Document files over HTTP: the store the settings name, and the /files/<key> route.

A public document's file is served to anyone; a draft's, or one under content moderation hid,
only with a signed URL that has not expired (storage/links.py). The route asks the database
every time, so a document made a draft or hidden stops being served at once. Local files are
streamed from the folder; with S3 the route redirects to a short presigned URL.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from app.middleware import error_response
from app.settings import ConfigError, Settings
from models.projects import Document, DocumentVersion
from reads.documents import is_public
from reads.loaders import Loaders
from storage.files import FileStore, LocalStore, S3Store, is_key
from storage.kinds import BY_CONTENT_TYPE
from storage.links import FileLinks

# A presigned S3 URL the route redirects to lives this long: it is used at once.
REDIRECT_SECONDS = 60
# What every answer says: never sniff (a file is what we say it is), run nothing in it.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def file_store(settings: Settings) -> FileStore:
    if settings.s3_url and not settings.s3_bucket:
        raise ConfigError("S3_URL is set but S3_BUCKET is not: name the bucket")
    if settings.s3_bucket:
        return S3Store(settings.s3_url, settings.s3_bucket, settings.s3_region,
                       settings.s3_access_key_id, settings.s3_secret_access_key)
    return LocalStore(settings.files_dir)


def file_links(settings: Settings, store: FileStore) -> FileLinks:
    return FileLinks(store=store, base_url=settings.files_base_url, secret=settings.secret,
                     signed_seconds=settings.files_url_seconds)


def content_disposition(filename: str, inline: bool) -> str:
    # The stored name is ASCII already (storage/files.py clean_filename); filename* for safety.
    return f"{'inline' if inline else 'attachment'}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


def files_endpoint(links: FileLinks) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "Files are read with GET.")
        key = request.path_params["key"]
        if not is_key(key):
            return error_response(404, "No such file.")
        version = await DocumentVersion.get_or_none(key=key)
        document = await Document.get_or_none(id=version.document_id) if version is not None else None
        if version is None or document is None:
            return error_response(404, "No such file.")
        public = await is_public(Loaders(None), document)
        if not public and not links.check_signature(
            key, request.query_params.get("expires"), request.query_params.get("signature"), time.time()
        ):
            return error_response(403, "This file needs a valid, unexpired signed URL.", "FORBIDDEN")
        kind = BY_CONTENT_TYPE.get(version.content_type)
        disposition = content_disposition(version.filename, kind.inline if kind else False)
        # A public file may be kept, but is asked for again before each reuse (no-cache): once
        # withdrawn (a draft, its owner hidden) no browser or CDN serves it from its copy.
        cache = "public, no-cache" if public else "private, no-store"
        headers = {**SAFE_HEADERS, "Cache-Control": cache}
        remote = await links.store.download_url(key, version.content_type, disposition, REDIRECT_SECONDS)
        if remote is not None:
            return RedirectResponse(remote, status_code=307, headers=headers)
        path = links.store.local_path(key)
        if path is None:
            return error_response(404, "No such file.")
        headers["Content-Disposition"] = disposition
        return FileResponse(path, media_type=version.content_type, headers=headers)

    return serve
