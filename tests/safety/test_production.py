"""Production mode: GraphiQL off, unexpected errors masked with an error id, introspection on."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from app.settings import Settings
from schema.territories import TerritoryStats
from server import build_app
from tests.factories import make_territory


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(Settings(database_url=settings.database_url, env="production", locale="en"), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://prod") as client:
        yield client


async def test_graphiql_is_off_in_production_and_on_in_development(production: httpx.AsyncClient, http):
    assert (await production.get("/graphql", headers={"Accept": "text/html"})).status_code == 404
    assert (await http.get("/graphql", headers={"Accept": "text/html"})).status_code == 200


async def test_introspection_stays_on(production: httpx.AsyncClient):
    body = (await production.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})).json()
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_an_unexpected_error_is_masked_with_an_error_id_that_is_logged(
    production: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    territory = await make_territory()

    async def broken(cls, territory_id: int) -> TerritoryStats:  # a bug in a resolver
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(TerritoryStats, "compute", classmethod(broken))
    logger = logging.getLogger("parvis")
    logger.addHandler(caplog.handler)
    try:
        body = (await production.post("/graphql", json={
            "query": "query($s: String!) { territory(slug: $s) { name stats { participants } } }",
            "variables": {"s": territory.slug}})).json()
    finally:
        logger.removeHandler(caplog.handler)
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internal detail" not in str(body) and "Traceback" not in str(body)
    logged = [r for r in caplog.records if r.name == "parvis.errors"]
    assert error["extensions"]["errorId"] in logged[-1].getMessage()
    assert "secret internal detail" in str(logged[-1].exc_info[1])


async def test_expected_errors_keep_their_messages_in_production(production: httpx.AsyncClient):
    body = (await production.post("/graphql", json={"query": "mutation { logOut }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "Authentication required."


async def test_a_slow_operation_is_stopped_with_a_timeout_code(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    import asyncio

    territory = await make_territory()

    async def slow(cls, territory_id: int) -> TerritoryStats:
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    monkeypatch.setattr(TerritoryStats, "compute", classmethod(slow))
    app = build_app(Settings(database_url=settings.database_url, operation_timeout=0.2), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        body = (await client.post("/graphql", json={
            "query": "query($s: String!) { territory(slug: $s) { stats { participants } } }",
            "variables": {"s": territory.slug}})).json()
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_postgresql_statements_time_out_before_the_operation(database_url: str):
    if not database_url.startswith("postgres"):
        pytest.skip("statement_timeout is a PostgreSQL setting")
    from tortoise import Tortoise

    _, rows = await Tortoise.get_connection("default").execute_query("SHOW statement_timeout")
    assert rows[0]["statement_timeout"] == "8s"  # below the 10 s operation timeout
