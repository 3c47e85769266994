"""Persisted queries: a client sends a document's sha256 instead of the document.

Apollo's automatic persisted queries (APQ): a request whose `extensions.persistedQuery`
names a hash the server knows runs that document; an unknown hash answers
PERSISTED_QUERY_NOT_FOUND (the message Apollo's link looks for is "PersistedQueryNotFound"),
and the client sends the document once with its hash, which the server checks and keeps.
Over GET this makes short URLs a CDN can cache. Documents are kept per process, at most
MAX_DOCUMENTS (least recently used first out); a client whose hash was forgotten simply
sends the document again.

The request is rewritten into a plain GraphQL request (query, variables, operationName)
before the GraphQL view sees it, so caching, limits and errors are those of any request.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.middleware import replay_body

MAX_DOCUMENTS = 10_000
MAX_DOCUMENT_BYTES = 64 * 1024
GRAPHQL_PATH = "/graphql"


class DocumentStore:
    """The documents clients registered by hash, least recently used dropped first."""

    def __init__(self, max_documents: int = MAX_DOCUMENTS) -> None:
        self.max_documents = max_documents
        self._documents: OrderedDict[str, str] = OrderedDict()

    def get(self, digest: str) -> str | None:
        document = self._documents.get(digest)
        if document is not None:
            self._documents.move_to_end(digest)
        return document

    def put(self, digest: str, document: str) -> None:
        self._documents[digest] = document
        self._documents.move_to_end(digest)
        while len(self._documents) > self.max_documents:
            self._documents.popitem(last=False)


class Refused(Exception):
    """A persisted-query request that cannot run: answered as a GraphQL error."""

    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def resolve(data: dict[str, Any], store: DocumentStore) -> dict[str, Any]:
    """The plain request for a request that names a persisted query (unchanged otherwise)."""
    extensions = data.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return data
    if not isinstance(persisted, dict) or persisted.get("version") != 1 \
            or not isinstance(persisted.get("sha256Hash"), str):
        raise Refused("persistedQuery needs version 1 and a sha256Hash.", "PERSISTED_QUERY_INVALID", 400)
    digest = persisted["sha256Hash"].lower()
    query = data.get("query")
    if query is None:
        query = store.get(digest)
        if query is None:
            raise Refused("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
    elif not isinstance(query, str):
        raise Refused("`query` must be a string.", "BAD_REQUEST", 400)
    elif sha256(query) != digest:
        raise Refused("The query does not match its sha256Hash.", "PERSISTED_QUERY_HASH_MISMATCH", 400)
    elif len(query.encode()) <= MAX_DOCUMENT_BYTES:
        store.put(digest, query)
    plain = {key: value for key, value in data.items() if key != "extensions"}
    plain["query"] = query
    rest = {key: value for key, value in extensions.items() if key != "persistedQuery"}  # type: ignore[union-attr]
    if rest:
        plain["extensions"] = rest
    return plain


def error_body(refused: Refused) -> bytes:
    return json.dumps({"errors": [{"message": str(refused), "extensions": {"code": refused.code}}]}).encode()


class PersistedQueries:
    """ASGI middleware on the GraphQL path: turns persisted-query requests into plain ones."""

    def __init__(self, app: ASGIApp, store: DocumentStore | None = None) -> None:
        self.app = app
        self.store = store if store is not None else DocumentStore()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "GET":
                scope = self._rewrite_query_string(scope)
            elif scope["method"] == "POST":
                receive = await self._rewrite_body(receive)
        except Refused as refused:
            await _answer(send, refused)
            return
        await self.app(scope, receive, send)

    def _rewrite_query_string(self, scope: Scope) -> Scope:
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        params = dict(pairs)
        if "extensions" not in params:
            return scope
        try:
            extensions = json.loads(params["extensions"])
        except ValueError:
            raise Refused("`extensions` must be JSON.", "BAD_REQUEST", 400) from None
        data: dict[str, Any] = {"extensions": extensions}
        if "query" in params:
            data["query"] = params["query"]
        plain = resolve(data, self.store)
        if plain is data:
            return scope
        params.pop("extensions")
        params["query"] = plain["query"]
        if "extensions" in plain:
            params["extensions"] = json.dumps(plain["extensions"])
        return {**scope, "query_string": urlencode(params).encode("latin-1")}

    async def _rewrite_body(self, receive: Receive) -> Receive:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return replay_body([message])
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"persistedQuery" in body:
            try:
                data = json.loads(body)
            except ValueError:
                data = None  # the view answers malformed JSON itself
            if isinstance(data, dict):
                plain = resolve(data, self.store)
                if plain is not data:
                    body = json.dumps(plain).encode()
        return replay_body([{"type": "http.request", "body": body, "more_body": False}])


async def _answer(send: Send, refused: Refused) -> None:
    body = error_body(refused)
    start: Message = {
        "type": "http.response.start", "status": refused.status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})
