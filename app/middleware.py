"""ASGI middleware in front of the GraphQL view: the client's address (forwarded headers from
trusted proxies only), the request body limit and the per-address request rate limit (both
refuse before anything parses the body), and the last resort that answers an unexpected
exception with a JSON 500 that names it by an error id."""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.i18n import DEFAULT_LOCALE, negotiate, translate
from access.ratelimit import Limiter, client_key

MAX_BODY_BYTES = 1_000_000
_log = logging.getLogger("parvis.errors")

# The code of an HTTP refusal that happens before GraphQL (GraphQL over HTTP gives no names).
HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    403: "FORBIDDEN",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_SERVER_ERROR",
}


def language_of(scope: Scope) -> str:
    """The language of an answer made outside GraphQL (no account is read): the request's
    Accept-Language, else the territory's (PARVIS_LOCALE, from the app's settings), else French."""
    header = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"accept-language"),
                  None)
    settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
    return negotiate(header, None, getattr(settings, "locale", None))


def error_response(status: int, message: str, code: str | None = None, *, language: str = DEFAULT_LOCALE,
                   params: Mapping[str, Any] | None = None, **extensions: object) -> Response:
    """A refusal as GraphQL-shaped JSON: one error, its message (a catalogue msgid, put in
    `language` with its `params`) and `extensions.code`. A text the catalogue lacks (a reason
    Strawberry wrote) stays as it is."""
    code = code or HTTP_ERROR_CODES.get(status, "BAD_REQUEST")
    error = {"message": translate(language, code, message, params, quiet=True), "extensions": {"code": code,
                                                                                                **extensions}}
    return Response(json.dumps({"errors": [error]}).encode(), status_code=status, media_type="application/json")


class UnexpectedErrors:
    """The last resort: an exception no handler expected becomes a JSON 500 with an
    `errorId`, logged once with its traceback (one JSON line in production), instead of
    Starlette's plain-text page and uvicorn's lines of text. If the answer had started, the
    connection is closed as uvicorn would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:16]
            _log.error("unexpected error %s in %s %s", error_id, scope.get("method"), scope.get("path"),
                       exc_info=exc)
            if started:
                raise
            await error_response(500, "Internal server error.", language=language_of(scope), errorId=error_id)(
                scope, receive, send)


# What a multipart upload carries besides its file (operations, map, part headers).
UPLOAD_OVERHEAD_BYTES = 1024 * 1024


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, before anything parses them; a
    multipart upload to /graphql may be `upload_limit` bytes (the largest file any territory
    accepts, PARVIS_UPLOAD_MAX_BYTES, plus its envelope)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, upload_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    def _limit(self, scope: Scope) -> int:
        if self.upload_limit is None or scope.get("path") != "/graphql" or scope.get("method") != "POST":
            return self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-type" and value.split(b";")[0].strip().lower() == b"multipart/form-data":
                return self.upload_limit + UPLOAD_OVERHEAD_BYTES
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await error_response(413, "Request body too large.", language=language_of(scope))(
                        scope, receive, send)
                    return
        # No (or a lying) Content-Length: read the body up to the limit, then replay it.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay_body([message]), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await error_response(413, "Request body too large.", language=language_of(scope))(scope, receive, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(
            scope, replay_body([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send
        )


def replay_body(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class RequestRateLimit:
    """Pure ASGI middleware: HTTP requests to `path`, counted per client address in the
    `requests_ip` bucket; over the limit, 429 with Retry-After and a GraphQL-shaped error.
    Websocket connections pass (their operations are limited by what they do)."""

    def __init__(self, app: ASGIApp, limiter: Limiter, path: str = "/graphql") -> None:
        self.app = app
        self.limiter = limiter
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit("requests_ip", client_key(scope))
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        seconds = decision.retry_seconds
        body = error_response(
            429, "Too many requests; retry in {retryAfterSeconds} seconds.", "RATE_LIMITED",
            language=language_of(scope), params={"retryAfterSeconds": seconds}, retryAfter=seconds,
        ).body
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(seconds).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """`"10.0.0.0/8, 192.0.2.7, ::1"` -> networks (an address is a network of one); ValueError
    names the entry that is not an address or a CIDR."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or a CIDR network") from exc
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of one forwarded hop: `192.0.2.7`, `192.0.2.7:4711`, `[2001:db8::1]:4711`
    or `"[2001:db8::1]"` (Forwarded's quoted form); None for `unknown`, obfuscated names and junk."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # IPv4 with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")


def forwarded_hops(headers: Iterable[tuple[bytes, bytes]], header: str = "x-forwarded-for") -> list[str]:
    """The client chain a request's headers claim, first hop (the client) first, from the one
    header the operator's proxy writes: `X-Forwarded-For`, or `Forwarded` (RFC 7239, its
    `for=` parameters). Never both: a proxy that writes one passes the other on as the client
    sent it, so reading it would let the client pick its address."""
    name = header.encode()
    hops: list[str] = []
    for key, value in headers:
        if key != name:
            continue
        for element in value.decode("latin-1").split(","):
            if name == b"x-forwarded-for":
                hops.append(element)
                continue
            for pair in element.split(";"):
                parameter, _, hop = pair.strip().partition("=")
                if parameter.strip().lower() == "for":
                    hops.append(hop)
    return hops


def forwarded_client(peer: str, headers: Iterable[tuple[bytes, bytes]],
                     trusted: Sequence[Network], header: str = "x-forwarded-for") -> str:
    """The client's address: the peer itself, unless the peer is a trusted proxy; then, walking
    the forwarded chain from the proxy back towards the client, the first hop that is not a
    trusted proxy (what an untrusted hop wrote before it is its own claim, not evidence)."""
    current = _address(peer)
    if current is None or not any(current in network for network in trusted):
        return peer
    for hop in reversed(forwarded_hops(headers, header)):
        address = _address(hop)
        if address is None:
            break  # `unknown` or junk: the last trusted proxy is all we know
        current = address
        if not any(address in network for network in trusted):
            break
    return str(current)


class ClientAddress:
    """Sets the scope's client to the address the limits count: the peer's, or, when the peer
    is one of the operator's trusted proxies (PARVIS_TRUSTED_PROXIES), the client it forwards
    for, read from the header it writes (PARVIS_FORWARDED_HEADER). With no trusted proxies (the default) forwarded headers are ignored: anyone can
    write them, and rotating them would otherwise lift every per-address limit."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network] = (), header: str = "x-forwarded-for") -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.trusted and scope["type"] in ("http", "websocket") and client:
            headers = scope.get("headers", [])
            host = forwarded_client(str(client[0]), headers, self.trusted, self.header)
            if host != client[0]:
                scope = {**scope, "client": (host, 0)}
                # The proxy also says whether the client spoke TLS to it (as uvicorn did).
                proto = forwarded_proto(headers)
                if proto is not None:
                    secure = proto == "https"
                    scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
        await self.app(scope, receive, send)


def forwarded_proto(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The scheme the nearest proxy received (`X-Forwarded-Proto`), if it is http or https."""
    proto = None
    for name, value in headers:
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1").split(",")[-1].strip().lower()
    return proto if proto in ("http", "https") else None
