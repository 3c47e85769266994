"""Parvis: composition root. Settings, database, broker, the ASGI app, and the CLI.

    python server.py [serve] [--host H] [--port P] [--workers N]
    python server.py migrate
    python server.py create-territory --slug S --name N [--population P] [--reply-deadline-days D]
    python server.py create-admin --territory S --email E --password P --display-name D
    python server.py seed-demo [--scale K]
    python server.py export-schema
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

MODEL_MODULES = [
    "models.territories",
    "models.accounts",
    "models.questions",
    "models.ideas",
    "models.projects",
    "models.polls",
    "models.news",
    "models.comments",
    "models.moderation",
    "models.notifications",
    "models.feed",
]
DEFAULT_DATABASE_URL = "sqlite://parvis.sqlite3"
MAX_BODY_BYTES = 1_000_000


class ConfigError(Exception):
    """Bad configuration: reported as one line, never a traceback."""


@dataclass(frozen=True)
class Settings:
    """Configuration, read once from the environment."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    env: str = "development"
    allowed_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    token_days: int = 30
    # Websockets: seconds a client has to send connection_init, and the legacy protocol.
    ws_init_timeout: float = 3.0
    ws_legacy: bool = False
    # Seconds a websocket may leave a message unread before it is closed as a laggard.
    ws_send_timeout: float = 10.0
    # permessage-deflate on websockets (PARVIS_WS_DEFLATE; see docs/performance.md, fan-out).
    ws_deflate: bool = False
    # How often the server closes polls whose closesAt passed (notifications, final tally).
    poll_closer_seconds: float = 5.0
    # An operation is stopped after this long; PostgreSQL statements a little before.
    operation_timeout: float = 10.0
    # Overrides of the default rate limits, e.g. "signup_ip=100/3600,vote=60/60".
    rate_limits: str = ""
    # The anonymous response cache (docs/adr/0006): on/off, and the longest an entry lives
    # (what a cross-process "changed" event lost in a Redis outage can cost at most).
    response_cache: bool = True
    response_cache_seconds: float = 60.0

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        database_url = normalize_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        redis_url = env.get("REDIS_URL") or None
        if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {redis_url!r})")
        mode = env.get("PARVIS_ENV", "development").strip().lower() or "development"
        if mode not in ("development", "production"):
            raise ConfigError(f"PARVIS_ENV must be development or production (got {mode!r})")
        origins = tuple(o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError as exc:
            raise ConfigError(f"PORT must be a number (got {env.get('PORT')!r})") from exc
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            env=mode,
            allowed_origins=origins,
            host=env.get("HOST", "127.0.0.1"),
            port=port,
            ws_init_timeout=_seconds(env, "PARVIS_WS_INIT_TIMEOUT", 3.0, maximum=60),
            ws_legacy=env.get("PARVIS_WS_LEGACY", "").strip().lower() in ("1", "true", "yes"),
            ws_send_timeout=_seconds(env, "PARVIS_WS_SEND_TIMEOUT", 10.0, maximum=600),
            ws_deflate=(env.get("PARVIS_WS_DEFLATE") or str(cls.ws_deflate)).strip().lower()
            in ("1", "true", "yes", "on"),
            poll_closer_seconds=_seconds(env, "PARVIS_POLL_CLOSER_SECONDS", 5.0, maximum=3600),
            operation_timeout=_seconds(env, "PARVIS_OPERATION_TIMEOUT", 10.0, maximum=300),
            rate_limits=_rate_limits(env.get("PARVIS_RATE_LIMITS", "")),
            response_cache=env.get("PARVIS_RESPONSE_CACHE", "on").strip().lower()
            not in ("0", "off", "false", "no"),
            response_cache_seconds=_seconds(env, "PARVIS_RESPONSE_CACHE_SECONDS", 60.0, maximum=3600),
        )


def _rate_limits(spec: str) -> str:
    from resolvers.ratelimit import parse_limits

    try:
        parse_limits(spec)
    except ValueError as exc:
        raise ConfigError(f"PARVIS_RATE_LIMITS: {exc}") from exc
    return spec


def _seconds(env: Mapping[str, str], name: str, default: float, *, maximum: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds (got {raw!r})") from exc
    if not 0 < value <= maximum:
        raise ConfigError(f"{name} must be more than 0 and at most {maximum:g} seconds (got {raw!r})")
    return value


def normalize_database_url(url: str) -> str:
    """Tortoise's spelling of a database URL (postgres:// for asyncpg, sqlite://path)."""
    url = url.strip()
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql", "asyncpg"):
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(f"DATABASE_URL needs a host and a database name (got {redact(url)!r})")
        return "postgres://" + url.split("://", 1)[1]
    if scheme == "sqlite":
        if not url.split("://", 1)[1]:
            raise ConfigError("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://parvis.sqlite3")
        return url
    raise ConfigError(
        f"DATABASE_URL must start with postgres:// or sqlite:// (got {redact(url)!r})"
    )


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


async def keep_session(connection: Any) -> None:
    """The pool's reset for a connection coming back: nothing beyond what asyncpg always does
    (it rolls back a transaction left open). asyncpg's default would also run `RESET ALL;
    CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all()`, one more round trip per
    statement; Parvis never leaves such state on a session (no SET outside a transaction,
    no cursor, LISTEN or advisory lock: events go through Redis)."""


def tortoise_config(database_url: str, *, statement_timeout: float = 8.0) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("postgres://"):
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(database_url)
        credentials = connection["credentials"]
        # Below the operation timeout, so a runaway query ends as an error, not a hang.
        credentials.setdefault("server_settings", {})["statement_timeout"] = str(int(statement_timeout * 1000))
        # asyncpg's pool defaults to at most 5 connections.
        credentials.setdefault("maxsize", 20)
        # Tortoise takes a pooled connection per statement; asyncpg's default reset on
        # release is one more round trip each time (docs/adr/0007).
        credentials["reset"] = keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _cli_tortoise_config() -> dict[str, Any]:
    try:
        return tortoise_config(Settings.from_env().database_url)
    except ConfigError:
        return tortoise_config(DEFAULT_DATABASE_URL)


# For Tortoise's own CLI (`tortoise makemigrations`), see [tool.tortoise] in pyproject.toml.
TORTOISE_ORM = _cli_tortoise_config()


async def apply_migrations(database_url: str, *, close: bool = True) -> None:
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        # aiosqlite's worker thread would otherwise keep the process alive.
        if close:
            await Tortoise.close_connections()


async def check_database(database_url: str) -> None:
    """Fail with one clear line when the database cannot be reached."""
    from tortoise import Tortoise

    try:
        await Tortoise.init(config=tortoise_config(database_url))
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
        raise ConfigError(f"cannot reach the database at {redact(database_url)}: {exc}") from exc
    finally:
        with contextlib.suppress(Exception):
            await Tortoise.close_connections()


# --- the ASGI application -------------------------------------------------------------


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
                    await PlainTextResponse("Request body too large.", status_code=413)(
                        scope, receive, send
                    )
                    return
        # No (or a lying) Content-Length: read the body up to the limit, then replay it.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await PlainTextResponse("Request body too large.", status_code=413)(scope, receive, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(
            scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send
        )


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


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


def build_graphql_app(settings: Settings, broker: Any, metrics: Any = None, *, limiter: Any = None) -> Any:
    from datetime import timedelta

    import orjson
    from cross_web import HTTPException
    from graphql import GraphQLError, OperationType
    from strawberry.asgi import GraphQL
    from strawberry.exceptions import ConnectionRejectionError
    from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
    from strawberry.types import ExecutionResult
    from strawberry.types.unset import UNSET

    from resolvers.context import Context, account_for_token, bearer_token
    from resolvers.ratelimit import Limiter
    from resolvers.response_cache import ResponseCache, cache_key, recording
    from schema.limits import selected_operation_type
    from schema.root import schema
    from subscriptions.websocket import transport_ws_handler

    limiter = limiter if limiter is not None else Limiter.for_settings(settings)
    cache = (
        ResponseCache(broker, max_age=settings.response_cache_seconds, metrics=metrics)
        if settings.response_cache else None
    )

    @dataclass
    class WebSocketContext(Context):
        # Strawberry stores the connection_init payload here (graphql-transport-ws).
        connection_params: Any = None

    class ParvisGraphQL(GraphQL):  # type: ignore[type-arg]
        graphql_transport_ws_handler_class = transport_ws_handler(settings.ws_send_timeout)
        response_cache = cache

        async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
            """Anonymous queries answer from the response cache when they can (docs/adr/0006)."""
            cache = self.response_cache
            if (
                cache is None
                or not isinstance(request, Request)
                or request.method != "POST"
                or "authorization" in request.headers
                or (request.headers.get("content-type") or "").split(";")[0].strip().lower()
                not in ("application/json", "application/graphql-response+json")
            ):
                return await super().run(request, context, root_value)
            json_media = wants_graphql_response_json(request.headers.get("accept", ""))
            media_type = "application/graphql-response+json" if json_media else "application/json"
            key = cache_key(await request.body(), media_type)
            if key is None:
                return await super().run(request, context, root_value)
            entry = cache.get(key)
            if entry is not None:
                if metrics is not None:
                    metrics.inc("parvis_response_cache_total", result="hit")
                return Response(entry.body, status_code=200, media_type=entry.media_type)
            if metrics is not None:
                metrics.inc("parvis_response_cache_total", result="miss")
            fill = cache.begin(key)
            request.state.parvis_fill = fill
            with recording(fill):
                response = await super().run(request, context, root_value)
            if response.status_code == 200 and not response.headers.getlist("set-cookie"):
                cache.put(fill, bytes(response.body), response.media_type or media_type)
            return response

        async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
            token = bearer_token(request.headers.get("authorization"))
            account = access = None
            failed = False
            if token is not None:
                found = await account_for_token(token) if token else None
                if found is None:
                    failed = True
                else:
                    account, access = found
            if isinstance(request, WebSocket):
                return WebSocketContext(
                    request=request, response=response, broker=broker, settings=settings,
                    account=account, token=access, auth_failed=failed, metrics=metrics, limiter=limiter,
                )
            context = Context(
                request=request, response=response, broker=broker, settings=settings,
                account=account, token=access, auth_failed=failed, metrics=metrics, limiter=limiter,
            )
            if cache is not None:
                context.pages = cache.pages  # type: ignore[assignment]
            return context

        async def on_ws_connect(self, context: Any) -> Any:
            """connection_init {"authorization": "Bearer <token>"} authenticates the
            websocket; a bad token (there or in the upgrade's header) closes it with 4403."""
            params = getattr(context, "connection_params", None) or {}
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

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "websocket" or metrics is None:
                await super().__call__(scope, receive, send)
                return
            metrics.gauge("parvis_websockets_open", 1)
            try:
                await super().__call__(scope, receive, send)
            finally:
                metrics.gauge("parvis_websockets_open", -1)

        async def parse_http_body(self, request: Any) -> Any:
            # GraphQL over HTTP: a POST body is JSON. Refusing the content types a browser
            # may send cross-site without a preflight (text/plain, forms) stops CSRF.
            if request.method == "POST":
                content_type = (request.content_type or "").split(";")[0].strip().lower()
                if content_type not in ("application/json", "application/graphql-response+json"):
                    if metrics is not None:
                        metrics.inc("parvis_http_rejected_total", reason="content_type")
                    raise HTTPException(415, "POST bodies must be application/json.")
            return await super().parse_http_body(request)

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
                self.encode_json(response_data), status_code=status,
                media_type="application/graphql-response+json",
            )
            response.headers.raw.extend(sub_response.headers.raw)
            return response

        def encode_json(self, data: object) -> bytes:
            return orjson.dumps(data)

        async def process_result(self, request: Any, result: Any) -> Any:
            data = await super().process_result(request, result)
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

        async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                                 context: Any, root_value: Any, request_data: Any) -> Any:
            selected = selected_operation_type(request_data.query, request_data.operation_name)
            if request_adapter.method == "GET" and selected == OperationType.MUTATION:
                # GraphQL over HTTP: GET serves queries only.
                raise HTTPException(405, "Mutations must be sent with POST.")
            try:
                return await asyncio.wait_for(
                    super().execute_single(request, request_adapter, sub_response, context,
                                           root_value, request_data),
                    timeout=settings.operation_timeout,
                )
            except TimeoutError:
                if metrics is not None:
                    metrics.inc("parvis_graphql_errors_total", code="TIMEOUT")
                return ExecutionResult(data=None, errors=[GraphQLError(
                    f"The operation took longer than {settings.operation_timeout:g} s and was stopped.",
                    extensions={"code": "TIMEOUT"},
                )])

        async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
            context = kwargs.get("context")
            if isinstance(context, Context) and context.auth_failed:
                return ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "The bearer token is invalid, expired or revoked.",
                            extensions={"code": "UNAUTHENTICATED"},
                        )
                    ],
                )
            return await super().execute_operation(*args, **kwargs)

    return ParvisGraphQL(
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
    )


def build_app(settings: Settings, *, manage_database: bool = True, limiter: Any = None) -> Starlette:
    """The ASGI app. With manage_database, its lifespan opens and closes Tortoise. Rate limits
    are the defaults (counted in Redis with REDIS_URL) unless a `limiter` is given."""
    from tortoise.contrib.starlette import RegisterTortoise

    from resolvers.observability import Metrics, configure_logging
    from resolvers.ratelimit import Limiter, RequestRateLimit
    from subscriptions.broker import Broker, InProcessBroker, RedisBroker

    configure_logging(settings.production)
    metrics = Metrics()
    # With REDIS_URL, events cross processes (one Redis subscription per process).
    broker: Broker = RedisBroker(settings.redis_url) if settings.redis_url else InProcessBroker()
    limiter = limiter if limiter is not None else Limiter.for_settings(settings)
    limiter.on_refusal = lambda bucket: metrics.inc("parvis_rate_limited_total", bucket=bucket)
    graphql = build_graphql_app(settings, broker, metrics, limiter=limiter)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if isinstance(broker, RedisBroker):
            broker.start()
        if manage_database:
            config = tortoise_config(settings.database_url, statement_timeout=settings.operation_timeout * 0.8)
            async with RegisterTortoise(app, config=config):
                closer = asyncio.create_task(close_due_polls_forever(settings, broker))
                try:
                    yield
                finally:
                    closer.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await closer
        else:
            yield
        if graphql.response_cache is not None:
            await graphql.response_cache.close()
        await broker.close()
        await limiter.close()

    async def healthz(request: Request) -> Response:
        """The process answers."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """The database and the broker are reachable: this process can serve."""
        from tortoise import Tortoise

        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(Tortoise.get_connection("default").execute_query("SELECT 1"), 2)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if isinstance(broker, RedisBroker):
            try:
                await asyncio.wait_for(broker._publisher.ping(), 2)
                checks["broker"] = "ok" if broker.connected.is_set() else "reconnecting"
            except Exception as exc:  # noqa: BLE001
                checks["broker"] = f"unreachable: {type(exc).__name__}"
        else:
            checks["broker"] = "ok"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus text format: this process's counters and gauges."""
        published = float(getattr(broker, "published", 0))
        return PlainTextResponse(
            metrics.render({"parvis_events_published_total": published}),
            media_type="text/plain; version=0.0.4",
        )

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ],
        lifespan=lifespan,
    )
    app.state.broker = broker
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.limiter = limiter
    app.state.graphql = graphql
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestRateLimit, limiter=limiter)  # outermost: refuses before reading a body
    return app


async def close_due_polls_forever(settings: Settings, broker: Any) -> None:
    """Polls close by the clock: every few seconds, close those past closesAt (each is
    claimed once across processes), so voters get POLL_CLOSED with nobody acting."""
    import logging

    from resolvers.context import Context
    from resolvers.polls import do_close_due_polls

    log = logging.getLogger("parvis.polls")
    while True:
        await asyncio.sleep(settings.poll_closer_seconds)
        try:
            await do_close_due_polls(Context(request=None, response=None, broker=broker, settings=settings))
        except Exception:  # noqa: BLE001 - keep closing polls after a passing database error
            log.exception("closing due polls failed; retrying in %s s", settings.poll_closer_seconds)


def app_factory() -> Starlette:
    """For uvicorn --factory (and serve --workers N)."""
    return build_app(Settings.from_env())


# --- CLI --------------------------------------------------------------------------------


def _run(coro: Callable[[], Awaitable[None]], settings: Settings) -> None:
    async def main() -> None:
        from tortoise import Tortoise

        await check_database(settings.database_url)
        if settings.is_sqlite:
            await apply_migrations(settings.database_url)
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            await coro()
        finally:
            await Tortoise.close_connections()
            await announce_cli_writes(settings)

    asyncio.run(main())


async def announce_cli_writes(settings: Settings) -> None:
    """A CLI command may have written what servers cache for anonymous readers: tell the
    servers that share REDIS_URL (a lone in-process server's cache lives at most
    response_cache_seconds; see docs/adr/0006)."""
    if not settings.redis_url:
        return
    from resolvers.response_cache import notify_changed
    from subscriptions.broker import RedisBroker

    broker = RedisBroker(settings.redis_url)
    try:
        await notify_changed(broker)
    finally:
        await broker.close()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    asyncio.run(check_database(settings.database_url))
    if settings.is_sqlite:
        # The embedded default needs nothing else: bring the schema up to date here.
        asyncio.run(apply_migrations(settings.database_url))
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers and args.workers > 1:
        uvicorn.run("server:app_factory", factory=True, host=host, port=port,
                    workers=args.workers, ws="websockets-sansio", log_level="info",
                    ws_per_message_deflate=settings.ws_deflate)
    else:
        uvicorn.run(build_app(settings), host=host, port=port, ws="websockets-sansio", log_level="info",
                    ws_per_message_deflate=settings.ws_deflate)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    async def main() -> None:
        await check_database(settings.database_url)
        await apply_migrations(settings.database_url)

    asyncio.run(main())
    print("migrations applied")


def cmd_create_territory(args: argparse.Namespace, settings: Settings) -> None:
    from models.territories import Territory

    async def work() -> None:
        slug = args.slug.strip().lower()
        if await Territory.filter(slug=slug).exists():
            raise ConfigError(f"a territory with slug {slug!r} already exists")
        if args.reply_deadline_days is not None and not 1 <= args.reply_deadline_days <= 365:
            raise ConfigError("--reply-deadline-days must be 1 to 365")
        row = await Territory.create(
            slug=slug, name=args.name.strip(), population=args.population,
            reply_deadline_days=args.reply_deadline_days or 15,
        )
        from schema.relay import encode_id

        print(f"territory {row.slug} created (id {encode_id('Territory', row.id)})")

    _run(work, settings)


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> None:
    from models.accounts import Account, Member, Role
    from models.territories import Territory
    from resolvers.accounts import PASSWORD_MIN, _hasher, normalize_email

    async def work() -> None:
        territory = await Territory.get_or_none(slug=args.territory.strip().lower())
        if territory is None:
            raise ConfigError(f"no territory with slug {args.territory!r}")
        email = normalize_email(args.email)
        account = await Account.get_or_none(email=email)
        if account is None:
            if len(args.password) < PASSWORD_MIN:
                raise ConfigError(f"the password must have at least {PASSWORD_MIN} characters")
            account = await Account.create(
                email=email, display_name=args.display_name.strip(),
                password_hash=_hasher.hash(args.password),
            )
        member, _ = await Member.get_or_create(account_id=account.id, territory_id=territory.id)
        await Member.filter(id=member.id).update(role=Role.ADMIN, verified=True)
        print(f"{email} is an admin of {territory.slug}")

    _run(work, settings)


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.demo import SeedRefused, do_seed_demo

    async def work() -> None:
        try:
            summary = await do_seed_demo(scale=args.scale)
        except SeedRefused as exc:
            raise ConfigError(str(exc)) from exc
        print(summary)

    _run(work, settings)


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    print(export_schema(), end="")


def export_schema() -> str:
    from strawberry.printer import print_schema

    from schema.root import schema

    return print_schema(schema) + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="parvis", description="Parvis civic participation API")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the API (the default command)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", help="apply the database migrations")
    territory = sub.add_parser("create-territory", help="create a territory")
    territory.add_argument("--slug", required=True)
    territory.add_argument("--name", required=True)
    territory.add_argument("--population", type=int)
    territory.add_argument("--reply-deadline-days", type=int, default=15)
    admin = sub.add_parser("create-admin", help="create an account (if needed) and make it admin")
    admin.add_argument("--territory", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--display-name", required=True)
    seed = sub.add_parser("seed-demo", help="fill a demo territory modeled on Carcassonne Agglo")
    seed.add_argument("--scale", type=int, default=1)
    sub.add_parser("export-schema", help="print the GraphQL SDL")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *argv])
    return args


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], None]] = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "create-territory": cmd_create_territory,
    "create-admin": cmd_create_admin,
    "seed-demo": cmd_seed_demo,
    "export-schema": cmd_export_schema,
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
        COMMANDS[args.command](args, settings)
    except ConfigError as exc:
        print(f"parvis: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
