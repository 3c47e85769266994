"""What operators and orchestrators ask the process: is it up, can it serve, what it counted."""

from __future__ import annotations

import asyncio
import contextlib
import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import Tortoise

from access.tokens import bearer_token
from app.database import pending_migrations
from app.middleware import error_response, language_of
from app.observability import Metrics
from app.settings import Settings
from events.brokers import Broker, RedisBroker


async def healthz(request: Request) -> Response:
    """The process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The database and the broker are reachable: this process can serve."""
    broker: Broker = request.app.state.broker
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(Tortoise.get_connection("default").execute_query("SELECT 1"), 2)
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            pending = await asyncio.wait_for(pending_migrations(), 2)
            checks["migrations"] = "ok" if not pending else f"pending: {', '.join(pending)}"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["migrations"] = f"unknown: {type(exc).__name__}"
    if isinstance(broker, RedisBroker):
        try:
            await asyncio.wait_for(broker.ping(), 2)
            # The subscriber starts on first use: a process that has not listened yet starts
            # it here, and is ready once it is subscribed (a moment), not before.
            broker.start()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(broker.connected.wait(), 2)
            checks["broker"] = "ok" if broker.connected.is_set() else "reconnecting"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"unreachable: {type(exc).__name__}"
    else:
        checks["broker"] = "ok"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format: the server's counters, gauges and histograms. With
    PARVIS_METRICS_TOKEN, only for `Authorization: Bearer <that token>`."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is not None:
        token = bearer_token(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
            return error_response(401, "/metrics needs the bearer token of PARVIS_METRICS_TOKEN.", "UNAUTHENTICATED",
                                  language=language_of(request.scope))
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
