"""Parvis: the composition root. Builds the ASGI app from settings and hands the CLI its commands.

    python server.py [serve|migrate|create-territory|create-admin|seed-demo|export-schema]

What each part is and where it lives: docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from access.ratelimit import Limiter, deployment_namespace
from app import cli
from app.api import schema
from app.cors import cors_options
from app.database import tortoise_config
from app.files import file_links, file_store, files_endpoint
from app.graphiql import ASSETS_PATH
from app.health import healthz, metrics_endpoint, readyz
from app.http_cache import HttpCaching
from app.jobs import close_due_polls_forever, send_daily_digests_forever
from app.mail import register_channels, start_worker
from app.middleware import BodyLimit, ClientAddress, RequestRateLimit, UnexpectedErrors
from app.observability import Metrics, configure_logging
from app.persisted import AutomaticDocuments, PersistedQueries, TrustedDocuments
from app.push import register_notification_mail, register_push_channel
from app.responses import ResponseCache
from app.settings import Settings
from app.unsubscribe import PATH as UNSUBSCRIBE_PATH
from app.unsubscribe import unsubscribe
from app.view import GraphQLView
from events.brokers import Broker, InProcessBroker, RedisBroker
from sharing.parts import SharedParts
from sharing.stamp import DataStamp
from storage.files import S3Store


def build_app(settings: Settings, *, manage_database: bool = True, limiter: Limiter | None = None) -> Starlette:
    """The ASGI app. With manage_database, its lifespan opens and closes Tortoise and runs the
    poll closer. Rate limits are the defaults (counted in Redis with REDIS_URL) unless a
    `limiter` is given."""
    configure_logging(settings.production)
    metrics = Metrics(settings.metrics_dir)
    # With REDIS_URL, events cross processes (one Redis subscription per process).
    broker: Broker = (
        RedisBroker(settings.redis_url, deployment_namespace(settings.database_url))
        if settings.redis_url else InProcessBroker()
    )
    limiter = limiter if limiter is not None else Limiter.for_settings(settings)
    limiter.on_refusal = lambda bucket: metrics.inc("parvis_rate_limited_total", bucket=bucket)
    broker.on_publish = lambda: metrics.inc("parvis_events_published_total")
    stamp = DataStamp(broker)
    cache = parts = None
    if settings.response_cache:
        cache = ResponseCache(stamp, max_age=settings.response_cache_seconds)
        parts = SharedParts(stamp, max_age=settings.response_cache_seconds)
    store = file_store(settings)
    links = file_links(settings, store)
    graphql = GraphQLView(schema, settings, broker, metrics, limiter, cache, parts, links)
    register_channels(settings)
    push = register_push_channel(settings)
    register_notification_mail(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if isinstance(broker, RedisBroker):
            broker.start()
        if manage_database:
            config = tortoise_config(settings.database_url, statement_timeout=settings.operation_timeout * 0.8)
            async with RegisterTortoise(app, config=config):
                closer = asyncio.create_task(close_due_polls_forever(settings, broker))
                # Mails and pushes leave after commit, from every process (docs/adr/0010).
                deliverer = start_worker(settings)
                digests = asyncio.create_task(send_daily_digests_forever())
                if getattr(app.state, "freeze_heap", False):
                    # Every full collection walked the schema, the modules and the pools, which live
                    # as long as the process: up to a third of a vote's CPU (ADR 0025).
                    gc.collect()
                    gc.freeze()
                    metrics.gauge("parvis_gc_frozen_objects", gc.get_freeze_count())
                try:
                    yield
                finally:
                    for task in (closer, deliverer, digests):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
        else:
            yield
        if push is not None:
            await push.close()
        if isinstance(store, S3Store):
            store.close()
        await stamp.close()
        await broker.close()
        await limiter.close()
        metrics.close(os.getpid())

    app = Starlette(
        routes=[
            # Every method reaches the view, which refuses all but GET and POST in JSON.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            # The one-click link of notification mails (RFC 8058): no login, GET changes nothing.
            Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET", "POST"]),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            # Document files (app/files.py): public ones to anyone, drafts by signed URL.
            Route("/files/{key:path}", files_endpoint(links), methods=["GET", "HEAD"]),
            *([Mount(ASSETS_PATH, StaticFiles(directory=settings.graphiql_assets))] if settings.graphiql_assets else []),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.metrics = metrics
    app.state.limiter = limiter
    app.state.graphql = graphql
    app.state.push = push
    app.state.files = links
    app.add_middleware(HttpCaching, max_age=settings.http_cache_seconds)
    app.add_middleware(PersistedQueries,
                       documents=TrustedDocuments() if settings.trusted_documents else AutomaticDocuments())
    app.add_middleware(BodyLimit, upload_limit=settings.upload_max_bytes)
    app.add_middleware(RequestRateLimit, limiter=limiter)  # refuses before reading a body
    # Before anything counts per address (uvicorn's own proxy headers are off: app/cli.py).
    app.add_middleware(ClientAddress, trusted=settings.trusted_proxies, header=settings.forwarded_header)
    app.add_middleware(UnexpectedErrors)  # a JSON 500 with an errorId, never a plain-text page
    # Outermost: a browser can read even a 413 or a 429 only with its CORS headers.
    app.add_middleware(CORSMiddleware, **cors_options(settings))
    return app


def app_factory() -> Starlette:
    """For uvicorn --factory (serve --workers N: each worker builds its own app)."""
    return cli.serving(build_app(Settings.from_env()))


ROOT = cli.Composition(build_app=build_app, factory_path="server:app_factory")


if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:], ROOT))
