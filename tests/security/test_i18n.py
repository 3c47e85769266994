"""Languages cannot be used to break or confuse the server: a hostile Accept-Language or
connection_init `acceptLanguage` is ignored rather than failing, a websocket speaks the language
it asked for, and a French answer never reaches an English client (tests/i18n for the cache).

Against a real server process in production mode, over HTTP and a real websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.e2e.server import ServerProcess
from tests.security.server import production_server

MISSING_TERRITORY = "VGVycml0b3J5Ojk5OTk5OTk="  # Territory:9999999
FEED = 'subscription($t: ID!) { feed(territoryId: $t) { cursor } }'
NEEDS_ACCOUNT = "mutation { markNotificationsRead(input: {ids: null}) }"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from production_server()


def ask(server: ServerProcess, language: str | None) -> httpx.Response:
    headers = {"Accept-Language": language} if language is not None else {}
    return httpx.post(f"{server.url}/graphql", json={"query": NEEDS_ACCOUNT}, headers=headers, timeout=30)


@pytest.mark.parametrize("language", [
    "", "*", "en;q=abc", "en;q=2", "q=0.5", ";;;,,,", "x" * 5000, ",".join(["de"] * 500) + ",en",
    "zz-ZZ-invalid-tag-that-is-long", "en_US", "\u00e9", "fr;q=1e309", "en;q=-1",
])
def test_a_hostile_accept_language_is_ignored_never_a_500(server: ServerProcess, language: str):
    try:
        response = ask(server, language)
    except UnicodeEncodeError:
        pytest.skip("httpx sends only latin-1 headers")
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] in ("Connexion requise.", "Authentication required.")


def test_without_a_language_the_territorys_french_is_spoken(server: ServerProcess):
    assert ask(server, None).json()["errors"][0]["message"] == "Connexion requise."
    assert ask(server, "en-US,en;q=0.9").json()["errors"][0]["message"] == "Authentication required."


async def subscription_error(server: ServerProcess, init: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(json.dumps({"type": "subscribe", "id": "1",
                                      "payload": {"query": FEED, "variables": {"t": MISSING_TERRITORY}}}))
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        return errors[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("init", "headers", "expected"), [
    ({"acceptLanguage": "en"}, {}, "No such territory."),
    ({"acceptLanguage": "fr"}, {"Accept-Language": "en"}, "Ce territoire n'existe pas."),
    ({}, {"Accept-Language": "en"}, "No such territory."),
    ({}, {}, "Ce territoire n'existe pas."),
    ({"acceptLanguage": {"not": "a string"}}, {"Accept-Language": "en"}, "No such territory."),
])
def test_a_websocket_speaks_the_language_of_its_connection_init_else_of_its_upgrade(
    server: ServerProcess, init: dict[str, Any], headers: dict[str, str], expected: str
):
    error = asyncio.run(subscription_error(server, init, headers))
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == expected
