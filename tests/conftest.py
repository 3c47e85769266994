"""Test harness: a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL),
migrated with the committed migrations, and the real ASGI app reached over httpx.

The database lives for the whole session; tests scope what they read to the
territories and people they create, so they never depend on each other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from access.ratelimit import DEFAULT_LIMITS, Limiter, RedisBackend
from app.database import apply_migrations, tortoise_config
from app.mail import email_sender
from app.settings import Settings, normalize_database_url
from delivery import register_sender
from delivery.email import CHANNEL
from delivery.worker import Policy, Worker
from events.brokers import RedisBroker
from server import build_app
from tests.mailbox import SmtpServer
from tests.pg import drop_created_databases, fresh_postgres_database
from tests.statements import record_statements

GQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def database_url() -> str:
    """A new, empty database for this test session."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        return fresh_postgres_database(normalize_database_url(base), f"parvis_test_{uuid.uuid4().hex[:8]}", pool=10)
    path = Path(tempfile.mkdtemp(prefix="parvis-test-")) / "test.sqlite3"
    return f"sqlite://{path}"


# Every Redis client a test's app opened, closed when the run ends: an app built inside a test
# and never closed would leave its connections to the garbage collector, whose ResourceWarning
# is an error here (filterwarnings).
_REDIS_CLIENTS: list[Any] = []


def _remembered(cls: Any) -> None:
    original = cls.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _REDIS_CLIENTS.append(self)

    cls.__init__ = init


_remembered(RedisBroker)
_remembered(RedisBackend)


@pytest.fixture(scope="session", autouse=True)
async def close_redis_clients() -> AsyncIterator[None]:
    yield
    for client in _REDIS_CLIENTS:
        with contextlib.suppress(Exception):
            await client.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Uploaded files go to a folder of the run, not to the checkout's var/files; English for a
    # client that names no language (the stories assert English messages).
    files_dir = tempfile.mkdtemp(prefix="parvis-files-")
    return Settings(database_url=database_url, redis_url=os.environ.get("TEST_REDIS_URL") or None,
                    files_dir=files_dir, locale="en")


@pytest.fixture(scope="session", autouse=True)
async def db(database_url: str) -> AsyncIterator[None]:
    await apply_migrations(database_url)
    record_statements()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    yield
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
async def app(settings: Settings, db: None) -> AsyncIterator[Any]:
    # One address and a few busy accounts make every request of the suite: limits are off here
    # (in memory, so no count outlives the run) and tested with their own apps in tests/ratelimit.
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    built = build_app(settings, manage_database=False, limiter=unlimited)
    yield built
    # Its Redis connections close with the run (an unclosed one is a ResourceWarning: an error).
    await built.state.broker.close()
    await built.state.limiter.close()


@pytest.fixture(scope="session")
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GQL:
    """POST a GraphQL operation to the real app; returns the JSON body."""

    async def call(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return call


@pytest.fixture
def app_broker(app: Any) -> Any:
    """The broker of the app under test, to see which events a mutation published."""
    return app.state.broker


# Folders whose tests start servers, crowds or restarts: the longest work units, given out first so
# that the workers of `make test` (pytest-xdist, one module per unit) finish together.
SLOW_FIRST = ("tests/live/", "tests/e2e/", "tests/integrity/", "tests/security/", "tests/delivery/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` check what every other test did: they run after them (under xdist,
    after every other test of their worker: their modules hold nothing else and the Makefile
    keeps this order with --no-loadscope-reorder)."""

    def rank(item: pytest.Item) -> tuple[bool, bool]:
        path = item.nodeid.split("::")[0]
        return item.get_closest_marker("last") is not None, not path.startswith(SLOW_FIRST)

    items.sort(key=rank)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The databases the run created go with it (after every fixture closed its connections)."""
    drop_created_databases()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) for the session; tests read its mailbox by recipient."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail(smtp: SmtpServer, settings: Settings) -> Callable[[], Awaitable[int]]:
    """The email channel pointed at `smtp`; calling the fixture delivers every due job now,
    as a server's worker would right after the commit."""
    register_sender(CHANNEL, email_sender(replace(settings, smtp_url=smtp.url)))
    worker = Worker(Policy(backoff_seconds=0.01, send_timeout=5.0))
    return worker.drain
