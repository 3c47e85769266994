"""A timeout stops the work and leaves nothing stuck (issue 10 §6): an operation stopped by
the operation timeout, wherever the cancellation lands in its transaction, rolls back and
lets go of what it held (SQLite's one connection and its lock, a PostgreSQL pool
connection), so the next writes of the process run; and every await on Redis is bounded,
so a cancellation landing in a Redis call still ends the operation.

Timeouts are forced by making one step slow (BEGIN, the work, COMMIT, a Redis call), then
the same process writes again: each later write must finish within WRITE_WAIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from access.ratelimit import DEFAULT_LIMITS, Limiter
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
    # and the stopped write rolled back (a stopped COMMIT had committed: it stays whole)
    assert titles == {"Again 0", "Again 1", "Again 2"} | ({"Stopped"} if where == "commit" else set())


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
