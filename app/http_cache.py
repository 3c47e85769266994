"""HTTP caching of anonymous GET queries: ETag and Cache-Control, so a browser or a CDN can
keep an answer and revalidate it cheaply.

An anonymous GET answer without errors carries a strong ETag (a digest of its bytes) and
`Cache-Control: public, max-age=N` (PARVIS_HTTP_CACHE_SECONDS, 0 by default: always
revalidate); a request whose If-None-Match names the current ETag gets 304 with no body. An
answer to a request with an Authorization header is `private, no-store`: it is someone's.
POST answers are left alone (HTTP caches ignore them).
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_PATH = "/graphql"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class HttpCaching:
    def __init__(self, app: ASGIApp, max_age: int = 0) -> None:
        self.app = app
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("path") != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        if "authorization" in request:
            await self.app(scope, receive, _private(send))
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await self._answer(start, b"".join(chunks), request, send)

        await self.app(scope, receive, buffered)

    async def _answer(self, start: Message, body: bytes, request: Headers, send: Send) -> None:
        headers = MutableHeaders(scope=start)
        cacheable = start["status"] == 200 and b'"errors"' not in body
        if "no-store" in headers.get("cache-control", ""):
            # The answer said it is one caller's (rateLimit): kept by nobody.
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        if not cacheable:
            headers["cache-control"] = "no-store"
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = etag_of(body)
        headers["etag"] = etag
        headers["cache-control"] = f"public, max-age={self.max_age}"
        headers.append("vary", "Accept, Accept-Language")
        matches = [tag.strip() for tag in request.get("if-none-match", "").split(",")]
        if etag in matches or "*" in matches:
            del headers["content-length"]
            del headers["content-type"]
            await send({**start, "status": 304, "headers": headers.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _private(send: Send) -> Send:
    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)["cache-control"] = "private, no-store"
        await send(message)

    return marked
