"""The GraphQL endpoint: Strawberry's ASGI view, with what Parvis adds around each request.

- anonymous queries answer from the response cache when they can (docs/adr/0006);
- each request's context: the viewer behind its bearer token, the app's broker, limiter,
  metrics and shared parts; a websocket authenticates in `connection_init`;
- GraphQL over HTTP: POST bodies must be JSON (refusing what a browser may send cross-site
  without a preflight stops CSRF), or multipart uploads (the GraphQL multipart request spec)
  with the `Apollo-Require-Preflight` header for the same reason; GET serves queries only, and a client asking for
  `application/graphql-response+json` gets 4xx for parse and validation failures;
- every operation is stopped after the operation timeout, and every error carries a code.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from access.context import Context
from access.errors import error_in, locale_of
from access.i18n import negotiate
from access.ratelimit import Limiter
from access.tokens import account_for_token, bearer_token, touch, viewer_for_token
from app.graphiql import graphiql_html
from app.http_rules import (
    JSON_MEDIA_TYPES,
    MULTIPART,
    HttpRefusal,
    check_multipart,
    content_type,
    is_request_error,
    wants_graphql_response_json,
)
from app.middleware import error_response, language_of
from app.observability import Metrics
from app.responses import ResponseCache, cache_key, cache_key_of_params, recording
from app.settings import Settings
from app.websocket import transport_ws_handler
from events.brokers import Broker
from models.accounts import Member
from schema.limits import selected_operation_type
from sharing.parts import SharedParts
from storage.links import FileLinks


@dataclass
class WebSocketContext(Context):
    # Strawberry stores the connection_init payload here (graphql-transport-ws).
    connection_params: Any = None


# orjson's words for an escaped surrogate without its pair (not for invalid UTF-8 bytes).
_LONE_SURROGATE = re.compile(r"^(no low|invalid low|invalid high) surrogate in string")


class GraphQLView(GraphQL[Context, None]):
    """One per app."""

    def __init__(self, schema: BaseSchema, settings: Settings, broker: Broker, metrics: Metrics,
                 limiter: Limiter, cache: ResponseCache | None, parts: SharedParts | None,
                 files: FileLinks | None = None) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            subscription_protocols=(
                # The legacy graphql-ws protocol had security advisories: off unless asked for.
                (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
                if settings.ws_legacy
                else (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
            ),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
            allowed_origins=settings.allowed_origins,
            multipart_uploads_enabled=True,
        )
        self.graphql_transport_ws_handler_class = transport_ws_handler(settings.ws_send_timeout, settings.operation_timeout)
        self.settings = settings
        self.broker = broker
        self.metrics = metrics
        self.limiter = limiter
        self.response_cache = cache
        self.parts = parts
        self.files = files

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html(local=self.settings.graphiql_assets is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                try:
                    await check_multipart(request, self.metrics)
                    response = await self.run(request)
                except HTTPException as refused:
                    # Strawberry answers these in plain text: in JSON, with a code, like every error.
                    response = error_response(
                        refused.status_code, getattr(refused, "msgid", refused.reason), language=language_of(scope),
                        params=getattr(refused, "params", None),
                    )
                await response(scope, receive, send)
            finally:
                await request.close()  # an upload's temporary files
            return
        self.metrics.gauge("parvis_websockets_open", 1)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.metrics.gauge("parvis_websockets_open", -1)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Anonymous queries answer from the response cache when they can (docs/adr/0006)."""
        cache = self.response_cache
        if (
            cache is None
            or not isinstance(request, Request)
            or request.method not in ("GET", "POST")
            or "authorization" in request.headers
            or (request.method == "POST" and content_type(request) not in JSON_MEDIA_TYPES)
        ):
            return await super().run(request, context, root_value)
        json_media = wants_graphql_response_json(request.headers.get("accept", ""))
        media_type = "application/graphql-response+json" if json_media else "application/json"
        # An answer may carry text in the reader's language: one entry per language, so a French
        # answer is never served to an English reader (tests/i18n).
        language = negotiate(request.headers.get("accept-language"), None, getattr(self.settings, "locale", None))
        if request.method == "GET":
            key = cache_key_of_params(request.query_params, media_type, language)
        else:
            key = cache_key(await request.body(), media_type, language)
        if key is None:
            return await super().run(request, context, root_value)
        entry = cache.get(key)
        if entry is not None:
            self.metrics.inc("parvis_response_cache_total", result="hit")
            return Response(entry.body, status_code=200, media_type=entry.media_type)
        shared = await cache.computed_meanwhile(key)
        if shared is not None:
            self.metrics.inc("parvis_response_cache_total", result="joined")
            return Response(shared[0], status_code=200, media_type=shared[1])
        self.metrics.inc("parvis_response_cache_total", result="miss")
        fill = cache.begin(key)
        request.state.parvis_fill = fill
        body: bytes | None = None
        try:
            with recording(fill):
                response = await super().run(request, context, root_value)
            if response.status_code == 200 and not response.headers.getlist("set-cookie"):
                body, media_type = bytes(response.body), response.media_type or media_type
                cache.put(fill, body, media_type)
        finally:
            cache.end(fill, body, media_type)  # the requests that waited for it get it (or not)
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        token = bearer_token(request.headers.get("authorization"))
        account = access = None
        memberships: dict[int, Member] | None = None
        failed = False
        socket = isinstance(request, WebSocket)
        if token is not None:
            # An HTTP request reads the viewer's memberships with the token (one statement); a
            # websocket lives too long to keep them, its operations read them each time.
            if socket:
                found = await account_for_token(token) if token else None
            else:
                viewer = await viewer_for_token(token) if token else None
                found = viewer[:2] if viewer is not None else None
                memberships = viewer[2] if viewer is not None else None
            if found is None:
                failed = True
            else:
                account, access = found
                await touch(access)
        if socket:
            return WebSocketContext(
                request=request, response=response, broker=self.broker, settings=self.settings,
                account=account, token=access, auth_failed=failed, metrics=self.metrics, limiter=self.limiter,
                files=self.files,
            )
        return Context(
            request=request, response=response, broker=self.broker, settings=self.settings,
            account=account, token=access, auth_failed=failed, metrics=self.metrics, limiter=self.limiter,
            parts=self.parts, files=self.files, memberships=memberships,
        )

    async def on_ws_connect(self, context: Any) -> Any:
        """connection_init {"authorization": "Bearer <token>"} authenticates the
        websocket; a bad token (there or in the upgrade's header) closes it with 4403."""
        params = getattr(context, "connection_params", None) or {}
        # The client's language: connection_init's acceptLanguage (in a browser an app cannot
        # choose the upgrade request's headers), else that header (access/context.py).
        language = next((params[k] for k in ("acceptLanguage", "Accept-Language", "accept-language") if k in params),
                        None) if isinstance(params, dict) else None
        if isinstance(language, str):
            context.accept_language = language[:1000]
        value = params.get("authorization", params.get("Authorization")) if isinstance(params, dict) else None
        if value is not None:
            token = bearer_token(value) if isinstance(value, str) else ""
            found = await account_for_token(token) if token else None
            if found is None:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
            context.account, context.token = found
            context.auth_failed = False
            context.fresh_loaders()
        elif context.auth_failed:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return await super().on_ws_connect(context)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: invalid UTF-8 and nesting deeper than 1,024 levels are JSONDecodeErrors
        (400, or 4400 on a websocket), where the standard library raised UnicodeDecodeError
        and RecursionError (a plain-text 500, a dropped socket). A lone surrogate escaped in a
        string ("\\ud800") is valid JSON that orjson refuses: the standard library reads that
        body, and the field's own check answers INVALID with its path (resolvers/validation.py)."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if not _LONE_SURROGATE.search(str(exc)):
                raise
            try:
                return json.loads(data)
            except (RecursionError, ValueError):
                raise exc from None

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, (dict, list)):
            raise HttpRefusal(400, "A GraphQL request is a JSON object.")
        return parsed

    async def parse_http_body(self, request: Any) -> Any:
        media = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST" and media == MULTIPART:
            return await self.parse_upload_body(request)
        if request.method == "POST" and media not in JSON_MEDIA_TYPES:
            self.metrics.inc("parvis_http_rejected_total", reason="content_type")
            raise HttpRefusal(415, "POST bodies must be application/json.")
        parsed = await super().parse_http_body(request)
        for one in parsed if isinstance(parsed, list) else (parsed,):
            if not isinstance(one.operation_name, (str, type(None))):
                raise HttpRefusal(400, "The GraphQL operation's `operationName` must be a string or null.")
        return parsed

    async def parse_upload_body(self, request: Any) -> Any:
        """Strawberry's multipart reading (check_multipart checked the form), for mutations only."""
        try:
            parsed = await super().parse_http_body(request)
        except (IndexError, TypeError, ValueError, AttributeError):
            raise HttpRefusal(400, "The multipart `map` does not fit the operation's variables.") from None
        if isinstance(parsed, list) or not isinstance(parsed.operation_name, (str, type(None))):
            raise HttpRefusal(400, "A multipart request carries one operation.")
        if selected_operation_type(parsed.query, parsed.operation_name) != OperationType.MUTATION:
            raise HttpRefusal(400, "Multipart requests carry mutations only.")
        return parsed

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Any, root_value: Any, request_data: Any) -> Any:
        selected = selected_operation_type(request_data.query, request_data.operation_name)
        if request_adapter.method == "GET" and selected == OperationType.MUTATION:
            # GraphQL over HTTP: GET serves queries only.
            raise HttpRefusal(405, "Mutations must be sent with POST.")
        if selected == OperationType.SUBSCRIPTION:
            # Executed as a query it answered an internal error: say where subscriptions are.
            raise HttpRefusal(400, "Subscriptions are served over a websocket (graphql-transport-ws) at this path.")
        timeout = self.settings.operation_timeout
        try:
            # In this task (asyncio.wait_for would start one per operation).
            async with asyncio.timeout(timeout):
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            self.metrics.inc("parvis_graphql_errors_total", code="TIMEOUT")
            return ExecutionResult(data=None, errors=[error_in(
                locale_of(context), "The operation took longer than {seconds} s and was stopped.", "TIMEOUT",
                seconds=f"{timeout:g}",
            )])

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context")
        if isinstance(context, Context) and context.auth_failed:
            return ExecutionResult(data=None, errors=[error_in(
                context.locale, "The bearer token is invalid, expired or revoked.", "UNAUTHENTICATED",
            )])
        return await super().execute_operation(*args, **kwargs)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # Remember whether the client speaks the GraphQL-over-HTTP media type.
        sub_response.graphql_response_json = wants_graphql_response_json(  # type: ignore[attr-defined]
            request.headers.get("accept", "")
        )
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        if not getattr(sub_response, "graphql_response_json", False):
            return super().create_response(response_data, sub_response)
        status = 200
        if isinstance(response_data, dict) and is_request_error(response_data):
            # Parse and validation failures: 4xx without `data` (GraphQL over HTTP).
            response_data = {k: v for k, v in response_data.items() if k != "data"}
            status = 400
        response = Response(
            self.encode_json(response_data), status_code=status, media_type="application/graphql-response+json",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: Any) -> Any:
        data: dict[str, Any] = dict(await super().process_result(request, result))
        fill = getattr(getattr(request, "state", None), "parvis_fill", None)
        if fill is not None and not data.get("errors"):
            # A whole answer without errors: the only kind the cache keeps.
            fill.cacheable = True
        for error in data.get("errors") or ():
            extensions = error.setdefault("extensions", {})
            if "code" not in extensions:
                # A parse failure never reaches the schema extensions that give codes.
                extensions["code"] = (
                    "GRAPHQL_PARSE_FAILED" if error.get("message", "").startswith("Syntax Error")
                    else "GRAPHQL_VALIDATION_FAILED"
                )
        return data
