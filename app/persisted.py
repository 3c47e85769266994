"""Persisted queries: a client sends a document's sha256 instead of the document.

Two modes, chosen by the deployment:

- Automatic persisted queries (Apollo's APQ, the default): a request whose
  `extensions.persistedQuery` names a hash the server knows runs that document; an unknown
  hash answers PERSISTED_QUERY_NOT_FOUND (the message Apollo's link looks for is
  "PersistedQueryNotFound"), and the client sends the document once with its hash, which the
  server checks and keeps. Over GET this makes short URLs a CDN can cache. Documents are kept
  per process, at most MAX_DOCUMENTS (least recently used first out); a client whose hash was
  forgotten simply sends the document again. Requests with a plain document run as ever.
- Trusted documents (PARVIS_TRUSTED_DOCUMENTS=on): only the documents registered with
  `server.py register-documents` run, named by hash (`documentId: "sha256:<hex>"`, or APQ's
  extension) or sent whole; anything else answers DOCUMENT_NOT_TRUSTED.

The request is rewritten into a plain GraphQL request (query, variables, operationName)
before the GraphQL view sees it, so caching, limits and errors are those of any request.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.i18n import DEFAULT_LOCALE, translate
from app.middleware import language_of, replay_body
from models.clients import TrustedDocument

MAX_DOCUMENTS = 10_000
MAX_DOCUMENT_BYTES = 64 * 1024
GRAPHQL_PATH = "/graphql"


class Refused(Exception):
    """A request that names a document which cannot run: answered as a GraphQL error."""

    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _named_hash(data: dict[str, Any]) -> str | None:
    """The hash a request names instead of (or beside) its document, if any."""
    document_id = data.get("documentId")
    if document_id is not None:
        if not isinstance(document_id, str):
            raise Refused("`documentId` must be a string such as sha256:<hex>.", "BAD_REQUEST", 400)
        return document_id.removeprefix("sha256:").lower()
    extensions = data.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1 \
            or not isinstance(persisted.get("sha256Hash"), str):
        raise Refused("persistedQuery needs version 1 and a sha256Hash.", "PERSISTED_QUERY_INVALID", 400)
    return str(persisted["sha256Hash"]).lower()


def _plain(data: dict[str, Any], document: str) -> dict[str, Any]:
    """The request as the GraphQL view expects it: the document in `query`, no hash left."""
    plain = {key: value for key, value in data.items() if key not in ("extensions", "documentId")}
    plain["query"] = document
    extensions = data.get("extensions")
    rest = {k: v for k, v in extensions.items() if k != "persistedQuery"} if isinstance(extensions, dict) else {}
    if rest:
        plain["extensions"] = rest
    return plain


class AutomaticDocuments:
    """APQ: the documents clients registered by hash, least recently used dropped first."""

    def __init__(self, max_documents: int = MAX_DOCUMENTS) -> None:
        self.max_documents = max_documents
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, data: dict[str, Any]) -> dict[str, Any]:
        digest = _named_hash(data)
        if digest is None:
            return data
        query = data.get("query")
        if query is None:
            query = self._documents.get(digest)
            if query is None:
                raise Refused("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            self._documents.move_to_end(digest)
        elif not isinstance(query, str):
            raise Refused("`query` must be a string.", "BAD_REQUEST", 400)
        elif sha256(query) != digest:
            raise Refused("The query does not match its sha256Hash.", "PERSISTED_QUERY_HASH_MISMATCH", 400)
        elif len(query.encode()) <= MAX_DOCUMENT_BYTES:
            self._documents[digest] = query
            self._documents.move_to_end(digest)
            while len(self._documents) > self.max_documents:
                self._documents.popitem(last=False)
        return _plain(data, query)


class TrustedDocuments:
    """Only the registered documents (models.clients.TrustedDocument) run."""

    def __init__(self) -> None:
        # A hash always names the same document: what was found is kept; what was not is
        # asked again (a manifest may be registered while the server runs).
        self._known: dict[str, str] = {}

    async def resolve(self, data: dict[str, Any]) -> dict[str, Any]:
        digest = _named_hash(data)
        query = data.get("query")
        if digest is None:
            if not isinstance(query, str):
                raise Refused("Name a registered document (documentId) or send one.", "DOCUMENT_NOT_TRUSTED", 400)
            digest = sha256(query)
        elif isinstance(query, str) and sha256(query) != digest:
            raise Refused("The query does not match its hash.", "PERSISTED_QUERY_HASH_MISMATCH", 400)
        document = self._known.get(digest)
        if document is None:
            row = await TrustedDocument.get_or_none(hash=digest) if len(digest) == 64 else None
            if row is None:
                raise Refused("This deployment runs only the documents its apps registered.",
                              "DOCUMENT_NOT_TRUSTED", 400)
            document = self._known[digest] = row.document
        return _plain(data, document)


Documents = AutomaticDocuments | TrustedDocuments


# Apollo's clients match this message word for word (automatic persisted queries): never translated.
PROTOCOL_WORDS = frozenset({"PERSISTED_QUERY_NOT_FOUND"})


def error_body(refused: Refused, language: str = DEFAULT_LOCALE) -> bytes:
    """The refusal as a GraphQL error, its message (a catalogue msgid) in `language`."""
    message = str(refused) if refused.code in PROTOCOL_WORDS else translate(language, refused.code, str(refused))
    return json.dumps({"errors": [{"message": message, "extensions": {"code": refused.code}}]}).encode()


class PersistedQueries:
    """ASGI middleware on the GraphQL path: turns persisted-query requests into plain ones."""

    def __init__(self, app: ASGIApp, documents: Documents | None = None) -> None:
        self.app = app
        self.documents: Documents = documents if documents is not None else AutomaticDocuments()
        self.trusted_only = isinstance(self.documents, TrustedDocuments)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "GET":
                scope = await self._rewrite_query_string(scope)
            elif scope["method"] == "POST":
                receive = await self._rewrite_body(receive)
        except Refused as refused:
            await _answer(send, refused, language_of(scope))
            return
        await self.app(scope, receive, send)

    async def _rewrite_query_string(self, scope: Scope) -> Scope:
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        if "extensions" not in params and "documentId" not in params and not self.trusted_only:
            return scope
        data: dict[str, Any] = {name: params[name] for name in ("query", "documentId") if name in params}
        if "extensions" in params:
            try:
                data["extensions"] = orjson.loads(params["extensions"])
            except ValueError:
                raise Refused("`extensions` must be JSON.", "BAD_REQUEST", 400) from None
        plain = await self.documents.resolve(data)
        if plain is data:
            return scope
        for name in ("extensions", "documentId"):
            params.pop(name, None)
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
        if self.trusted_only or b"persistedQuery" in body or b"documentId" in body:
            try:
                data = orjson.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                plain = await self.documents.resolve(data)
                if plain is not data:
                    body = json.dumps(plain).encode()
            elif self.trusted_only:
                raise Refused("Name a registered document (documentId) or send one.", "DOCUMENT_NOT_TRUSTED", 400)
        return replay_body([{"type": "http.request", "body": body, "more_body": False}])


async def _answer(send: Send, refused: Refused, language: str) -> None:
    body = error_body(refused, language)
    start: Message = {
        "type": "http.response.start", "status": refused.status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


def manifest_documents(manifest: Any) -> dict[str, str]:
    """hash -> document of a client's manifest: graphql-codegen's persisted documents
    ({"<sha256>": "<document>"}) or Apollo's persisted query manifest ({"format":
    "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}). Every hash is checked."""
    if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            raise ValueError("an Apollo manifest needs a list of operations")
        pairs = [(op.get("id"), op.get("body")) for op in operations if isinstance(op, dict)]
    elif isinstance(manifest, dict):
        pairs = list(manifest.items())
    else:
        raise ValueError("a manifest is a JSON object")
    documents: dict[str, str] = {}
    for digest, document in pairs:
        if not isinstance(digest, str) or not isinstance(document, str):
            raise ValueError("every entry needs a hash and a document")
        digest = digest.removeprefix("sha256:").lower()
        if sha256(document) != digest:
            raise ValueError(f"the document of {digest[:12]}... does not match its hash")
        documents[digest] = document
    return documents
