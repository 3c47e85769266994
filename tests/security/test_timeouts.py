"""A timeout stops the work and leaves nothing stuck (issue 10 §6): an operation stopped by
the operation timeout, wherever the cancellation lands in its transaction, rolls back and
lets go of what it held (SQLite's one connection and its lock, a PostgreSQL pool
connection), so the next writes of the process run; and every await on Redis is bounded,
so a cancellation landing in a Redis call still ends the operation.

Timeouts are forced by making one step slow (BEGIN, the work, COMMIT, a Redis call), then
the same process writes again: each later write must finish within WRITE_WAIT."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tortoise.transactions import in_transaction

from access.ratelimit import DEFAULT_LIMITS, REDIS_TIMEOUT, Limiter
from app.settings import Settings
from models.ideas import Idea
from models.territories import Territory
from server import build_app
from tests.factories import Persona, gid, make_person, make_territory

TIMEOUT = 1.5
WRITE_WAIT = 10.0
PROPOSE = """mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { idea { id } userErrors { code } } }"""


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with a short operation timeout (limits out of the way)."""
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    app = build_app(Settings(database_url=settings.database_url, operation_timeout=TIMEOUT),
                    manage_database=False, limiter=unlimited)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


def transaction_class() -> type[Any]:
    """The class of this backend's transaction connection (SQLite's or asyncpg's wrapper)."""
    context = in_transaction()
    return type(getattr(context, "connection", None) or context.client)  # type: ignore[attr-defined]


def made_slow(step: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`step`, then a pause longer than the operation timeout: the cancellation lands just
    after the step did its work (BEGIN sent, row written, COMMIT done)."""

    async def slow(*args: Any, **kwargs: Any) -> Any:
        done = await step(*args, **kwargs)
        await asyncio.sleep(TIMEOUT * 2)
        return done

    return slow


async def propose(http: httpx.AsyncClient, person: Persona, territory: Territory, title: str) -> dict[str, Any]:
    response = await asyncio.wait_for(http.post("/graphql", headers={"Authorization": f"Bearer {person.token}"}, json={
        "query": PROPOSE,
        "variables": {"i": {"territoryId": gid("Territory", territory.id), "title": title, "body": "Benches."}},
    }), WRITE_WAIT)
    return response.json()  # type: ignore[no-any-return]


def proposed(answer: dict[str, Any]) -> bool:
    return bool(((answer.get("data") or {}).get("proposeIdea") or {}).get("idea"))


@pytest.mark.parametrize("where", ["begin", "execute_insert", "commit"])
async def test_a_write_stopped_by_the_timeout_leaves_the_database_writable(
    where: str, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    # Given alice, whose transactions are slow at `where` (BEGIN, the INSERT, COMMIT)
    territory = await make_territory()
    alice = await make_person("alice", territory)
    cls = transaction_class()
    with monkeypatch.context() as patch:
        patch.setattr(cls, where, made_slow(getattr(cls, where)))
        # When the operation timeout stops her proposal
        stopped = await propose(client, alice, territory, "Stopped")
        assert stopped["errors"][0]["extensions"]["code"] == "TIMEOUT", stopped
    # Then the process writes again at once (a stopped BEGIN or INSERT left no lock, no
    # connection and no transaction behind)
    for n in range(3):
        again = await propose(client, alice, territory, f"Again {n}")
        assert proposed(again), again
    titles = set(await Idea.filter(territory_id=territory.id).values_list("title", flat=True))
    # and the stopped write rolled back; with a slow COMMIT it stays whole either way: committed
    # when the cancellation landed after the COMMIT, rolled back when a busy machine made the
    # work itself outlast the timeout
    assert titles - {"Stopped"} == {"Again 0", "Again 1", "Again 2"}
    if where != "commit":
        assert "Stopped" not in titles


async def test_many_writes_stopped_by_the_timeout_leave_the_pool_usable(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    """More stopped transactions than the pool has connections (5 per server on PostgreSQL):
    each must give its connection back."""
    territory = await make_territory()
    bob = await make_person("bob", territory)
    cls = transaction_class()
    with monkeypatch.context() as patch:
        patch.setattr(cls, "begin", made_slow(cls.begin))
        stopped = await asyncio.gather(*(propose(client, bob, territory, f"Stopped {n}") for n in range(12)))
    assert {s["errors"][0]["extensions"]["code"] for s in stopped} == {"TIMEOUT"}
    again = await propose(client, bob, territory, "Again")
    assert proposed(again), again
    assert await Idea.filter(territory_id=territory.id).count() == 1


class SlowRedis:
    """A TCP proxy in front of the test Redis that holds every answer back `delay` seconds:
    a Redis that hangs, without making the shared Redis itself slow."""

    def __init__(self, target: str, delay: float) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.delay = delay
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [client_writer, writer]
        await asyncio.gather(self._pipe(client_reader, writer, 0.0), self._pipe(reader, client_writer, self.delay),
                             return_exceptions=True)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        while data := await reader.read(65536):
            await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
        writer.close()


async def test_wrong_log_ins_stop_at_the_timeout_when_redis_hangs(settings: Settings):
    """Twelve wrong logIns against a Redis that answers after 3 s: none runs past the operation
    timeout. Each either stops there with TIMEOUT or, once the limiter has given up on Redis
    (at most REDIS_TIMEOUT, then it counts in memory), answers its refusal in time. (Before
    events/bounded.py some ran to their end 7 s later: redis-py held the cancellation back.)"""
    if not settings.redis_url:
        pytest.skip("needs TEST_REDIS_URL")
    async with SlowRedis(settings.redis_url, delay=3.0) as slow_url:
        app = build_app(Settings(database_url=settings.database_url, redis_url=slow_url,
                                 operation_timeout=TIMEOUT), manage_database=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            began = time.monotonic()
            answers = await asyncio.gather(*(asyncio.wait_for(http.post("/graphql", json={
                "query": "mutation { logIn(input: {email: \"nobody@example.org\", password: \"wrong\"}) "
                         "{ token userErrors { code } } }",
            }), WRITE_WAIT) for _ in range(12)))
            took = time.monotonic() - began
        await app.state.limiter.close()
        await app.state.broker.close()
    codes = [
        ((a.json().get("errors") or [{}])[0].get("extensions") or {}).get("code")
        or (a.json()["data"]["logIn"]["userErrors"] or [{}])[0].get("code")
        for a in answers
    ]
    assert set(codes) <= {"TIMEOUT", "BAD_CREDENTIALS", "RATE_LIMITED"}, (took, [a.text for a in answers])
    assert "TIMEOUT" in codes, codes  # the first ones met the hanging Redis
    assert took < REDIS_TIMEOUT + TIMEOUT + 1.0, took
