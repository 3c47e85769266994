"""ASGI middleware in front of the GraphQL view: the request body limit and the per-address
request rate limit (both refuse before anything parses the body), and the last resort that
answers an unexpected exception with a JSON 500 that names it by an error id."""

from __future__ import annotations

import json
import logging
import uuid

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.ratelimit import Limiter, client_key

MAX_BODY_BYTES = 1_000_000
_log = logging.getLogger("parvis.errors")

# The code of an HTTP refusal that happens before GraphQL (GraphQL over HTTP gives no names).
HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_SERVER_ERROR",
}


def error_response(status: int, message: str, code: str | None = None, **extensions: object) -> Response:
    """A refusal as GraphQL-shaped JSON: one error, its message and `extensions.code`."""
    error = {"message": message, "extensions": {"code": code or HTTP_ERROR_CODES.get(status, "BAD_REQUEST"),
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
            await error_response(500, "Internal server error.", errorId=error_id)(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await error_response(413, "Request body too large.")(scope, receive, send)
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
            if size > self.limit:
                await error_response(413, "Request body too large.")(scope, receive, send)
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
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"Too many requests; retry in {seconds} seconds.",
                        "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
                    }
                ]
            }
        ).encode()
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
