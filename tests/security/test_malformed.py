"""Nothing malformed reaches a 500 (issue 10 §5).

Against a real server process in production mode. Before the fix each of these got
Starlette's plain-text "Internal Server Error" (and uvicorn printed a traceback): a body
that is a JSON string (`data.get` on a str), variables nested 3,000 levels (RecursionError in
json.loads), invalid UTF-8 (UnicodeDecodeError), an operationName that is an object or a list
(unhashable in the operation-type check); a cursor holding an integer past 64 bits got
INTERNAL_SERVER_ERROR (SQLite's OverflowError; asyncpg refuses past 32 bits), a cursor of
5,000 nested lists too (RecursionError); a websocket frame nested 100,000 levels dropped the
socket with no close code.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.settings import Settings
from app.view import GraphQLView
from server import build_app
from tests.e2e.server import ServerProcess
from tests.security.server import SLUG, log_lines, post, production_server


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from production_server()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is a JSON refusal with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["errors"][0]["extensions"]["code"] == code, body
    return body


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("body", [b'"x"', b"5", b"null", b"true"])
def test_a_body_that_is_not_a_json_object_is_a_400(server: ServerProcess, body: bytes):
    refused(post(server, body), 400, "BAD_REQUEST")


def test_variables_nested_3000_levels_are_a_400(server: ServerProcess):
    body = '{"query": "query($v: [String]) { viewer { id } }", "variables": {"v": %s}}' % nested(3000)
    refused(post(server, body.encode()), 400, "BAD_REQUEST")
    url_variables = httpx.get(f"{server.url}/graphql", timeout=30, params={
        "query": "query($v: [String]) { viewer { id } }", "variables": '{"v": %s}' % nested(3000)})
    refused(url_variables, 400, "BAD_REQUEST")


def test_invalid_utf8_inside_a_json_string_is_a_400(server: ServerProcess):
    body = b'{"query": "query($s: String!) { territory(slug: $s) { id } }", "variables": {"s": "\xff\xfe"}}'
    refused(post(server, body), 400, "BAD_REQUEST")


@pytest.mark.parametrize("name", [{}, [], 5])
def test_an_operation_name_that_is_not_a_string_is_a_400(server: ServerProcess, name: object):
    refused(post(server, {"query": "query Q { viewer { id } }", "operationName": name}), 400, "BAD_REQUEST")


@pytest.mark.parametrize("keys", [f"[{2**64}]", f"[{2**40}]", f"[{-(2**63) - 1}]", nested(5000)])
def test_a_cursor_beyond_the_sort_keys_is_bad_user_input(server: ServerProcess, keys: str):
    body = post(server, {"query": "query($s: String!, $c: String) { territory(slug: $s) { questions(after: $c) "
                                  "{ totalCount } } }", "variables": {"s": SLUG, "c": cursor(keys)}}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


def test_another_method_is_a_405_in_json(server: ServerProcess):
    refused(httpx.put(f"{server.url}/graphql", content=b"{}", timeout=30), 405, "METHOD_NOT_ALLOWED")


async def close_code(server: ServerProcess, frame: str) -> tuple[int | None, str]:
    """The close code and reason the server answers `frame` with, after connection_init."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send('{"type": "connection_init"}')
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(frame)
        try:
            await asyncio.wait_for(socket.recv(), 10)
        except ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    return None, "still open"


def test_a_websocket_frame_nested_100000_levels_closes_with_4400(server: ServerProcess):
    code, reason = asyncio.run(close_code(server, nested(100_000)))
    assert code == 4400, reason


@pytest.mark.parametrize("payload", [
    {"operationName": {}}, {"operationName": []}, {"operationName": 0}, {"variables": []}, {"variables": 0},
    {"extensions": "x"},
])
def test_a_subscribe_payload_of_the_wrong_shape_closes_with_4400(server: ServerProcess, payload: dict[str, Any]):
    """Before the fix an operationName of {}, [] or 0 passed the shape check (`or ""`) and
    became an INTERNAL_SERVER_ERROR; variables of [] or 0 ran as no variables."""
    query = 'subscription { pollResults(pollId: "UG9sbDox") { totalVotes } }'
    frame = json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, **payload}})
    code, reason = asyncio.run(close_code(server, frame))
    assert code == 4400, reason


def test_none_of_it_left_a_traceback_or_a_line_of_text(server: ServerProcess):
    # Runs last in this module: every refusal above wrote JSON lines, none with a traceback.
    entries = log_lines(server)
    assert not [e for e in entries if "exception" in e or e["level"] == "error"], entries
    assert "Traceback" not in json.dumps(entries)


async def test_an_unexpected_exception_is_a_json_500_with_an_error_id_that_is_logged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The last resort (app/middleware.py UnexpectedErrors): before it, Starlette answered
    a bug outside GraphQL's execution with a plain-text page."""

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(GraphQLView, "run", broken)
    app = build_app(Settings(database_url=settings.database_url, env="production"), manage_database=False)
    logger = logging.getLogger("parvis")
    logger.addHandler(caplog.handler)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://prod") as client:
            response = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    finally:
        logger.removeHandler(caplog.handler)
    body = refused(response, 500, "INTERNAL_SERVER_ERROR")
    assert "secret internal detail" not in response.text
    error_id = body["errors"][0]["extensions"]["errorId"]
    logged = [r for r in caplog.records if r.name == "parvis.errors" and error_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
