"""The fixtures of the reach stories (tests/reach, tests/security/test_reach.py): an app that pushes
and a push service in this process that checks every push (tests/reach/push_service.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.settings import Settings
from delivery import sender_for
from delivery.push import CHANNEL, PushSender, VapidKeys
from delivery.worker import Policy, Worker
from models.delivery import DeliveryJob, JobStatus
from server import build_app
from tests.reach.push_service import PushService, push_service_app, serve

VAPID = VapidKeys.generate("mailto:ops@parvis.test")


@pytest.fixture(scope="session")
def push_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, vapid_private_key=VAPID.private_key, vapid_subject=VAPID.subject,
                               push_allow_loopback=True)


@pytest.fixture(scope="session")
async def push_app(push_settings: Settings, db: None) -> AsyncIterator[Any]:
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    # Building it registers its push sender (loopback endpoints allowed) for the process.
    app = build_app(push_settings, manage_database=False, limiter=unlimited)
    yield app
    await app.state.broker.close()
    await app.state.limiter.close()


@pytest.fixture
async def deliver(push_app: Any) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Deliver every queued push now, as a server's worker does right after the commit;
    retries come due in hundredths of a second, and are delivered too."""
    worker = Worker(Policy(backoff_seconds=0.01, send_timeout=5.0))

    async def run() -> None:
        for _ in range(200):
            await worker.drain()
            if not await DeliveryJob.filter(channel=CHANNEL, status=JobStatus.PENDING).exists():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("pushes still pending")

    yield run
    # The sender keeps connections to the push service of this test: close them with it.
    sender = sender_for(CHANNEL)
    if isinstance(sender, PushSender):
        await sender.close()


@pytest.fixture
async def pgql(push_app: Any) -> AsyncIterator[Any]:
    """POST a GraphQL operation to the pushing app; returns the JSON body."""
    transport = httpx.ASGITransport(app=push_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                         headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        yield call


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService(server_key=VAPID.public_key)
    async with serve(push_service_app(service), service.port):
        yield service
