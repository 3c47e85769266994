"""A real server process, people made over HTTP, and a graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Self

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.server import ServerProcess, run_cli

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 5.0  # every receive is bounded


def server_env() -> dict[str, str]:
    """REDIS_URL when the run has a Redis: the live tests then cross the Redis broker."""
    env = {"PARVIS_WS_INIT_TIMEOUT": "1"}
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    return env


def prepare_database(db: str, slug: str) -> None:
    for args in (
        ("migrate",),
        ("create-territory", "--slug", slug, "--name", "Live Agglo"),
        ("create-admin", "--territory", slug, "--email", f"adam@{slug}.example",
         "--password", "a long passphrase", "--display-name", "Adam"),
    ):
        done = run_cli(db, *args)
        assert done.returncode == 0, done.stderr


class Http:
    """One person's GraphQL over real HTTP."""

    def __init__(self, url: str, token: str | None = None, ip: str | None = None) -> None:
        self.url = url
        self.token = token
        # Seen by the server as the client address (uvicorn trusts X-Forwarded-For from
        # loopback): crowds of test people do not share one rate-limit bucket.
        self.ip = ip

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.ip:
            headers["X-Forwarded-For"] = self.ip
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]


@dataclass
class Person:
    http: Http
    token: str
    member_id: str


async def sign_up(url: str, email: str, name: str, territory_id: str, *, ip: str | None = None) -> Person:
    data = await Http(url, ip=ip)(
        "mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code } } }",
        {"i": {"email": email, "password": "a long passphrase", "displayName": name}},
    )
    assert data["signUp"]["userErrors"] == [], data
    token = data["signUp"]["token"]
    http = Http(url, token, ip)
    joined = await http(
        "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id } } }", {"t": territory_id}
    )
    return Person(http, token, joined["joinTerritory"]["member"]["id"])


async def log_in(url: str, email: str, territory_id: str) -> Person:
    data = await Http(url)(
        "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
        {"i": {"email": email, "password": "a long passphrase"}},
    )
    token = data["logIn"]["token"]
    http = Http(url, token)
    joined = await http(
        "mutation($t: ID!) { joinTerritory(input: {territoryId: $t}) { member { id } } }", {"t": territory_id}
    )
    return Person(http, token, joined["joinTerritory"]["member"]["id"])


class Live:
    """A graphql-transport-ws connection; messages are kept per operation id."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._ids = 0

    @classmethod
    async def open(cls, url: str, token: str | None = None, *, payload: Any = None) -> Live:
        conn = await connect(url.replace("http", "ws", 1) + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT)
        live = cls(conn)
        init = payload if payload is not None else ({"authorization": f"Bearer {token}"} if token else {})
        await conn.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = await live._recv()
        assert ack["type"] == "connection_ack", ack
        return live

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _recv(self, timeout: float = WAIT) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
            if message["type"] == "ping":
                await self.conn.send(json.dumps({"type": "pong"}))
                continue
            return message  # type: ignore[no-any-return]

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        op = str(self._ids)
        await self.conn.send(json.dumps(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        ))
        return op

    async def message(self, op: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next message of operation `op` (next, error or complete)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.inbox[op]:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"nothing for operation {op} in {timeout} s")
            message = await self._recv(left)
            self.inbox[message.get("id", "")].append(message)
        return self.inbox[op].pop(0)

    async def next(self, op: str, timeout: float = WAIT) -> dict[str, Any]:
        """The data of the next `next` message of `op`."""
        message = await self.message(op, timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        return message["payload"]["data"]  # type: ignore[no-any-return]

    async def completes(self, op: str, timeout: float = WAIT) -> None:
        message = await self.message(op, timeout)
        assert message["type"] == "complete", message

    async def silent(self, op: str, seconds: float = 0.6) -> None:
        """Nothing arrives for `op` within `seconds`."""
        try:
            message = await self.message(op, seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")


async def closed_with(url: str, payload: Any, *, wait: float = WAIT) -> int | None:
    """The close code the server answers a connection_init with `payload` (None: acked)."""
    async with connect(url.replace("http", "ws", 1) + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT) as conn:
        if payload is not None:
            await conn.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            message = json.loads(await asyncio.wait_for(conn.recv(), wait))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        assert message["type"] == "connection_ack", message
        return None


__all__ = ["Live", "Person", "ServerProcess", "closed_with", "log_in", "prepare_database", "server_env", "sign_up"]


async def citizens_in_postgres(database_url: str, slug: str, count: int, prefix: str) -> list[str]:
    """Bearer tokens of `count` new citizens of territory `slug`, written straight into the
    server's PostgreSQL database: crowds for load tests without `count` slow password hashes."""
    import datetime as dt
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    from access.tokens import hash_token

    parts = urlsplit(database_url)
    conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, parts.path, "", "")))
    now = dt.datetime.now(dt.UTC)
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    try:
        async with conn.transaction():
            territory = await conn.fetchval("SELECT id FROM territory WHERE slug = $1", slug)
            for i, token in enumerate(tokens):
                account = await conn.fetchval(
                    "INSERT INTO account (email, display_name, created_at, locale) VALUES ($1, $2, $3, 'fr') RETURNING id",
                    f"{prefix}{i}@crowd.example", f"{prefix}{i}", now,
                )
                await conn.execute(
                    "INSERT INTO access_token (account_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                    account, hash_token(token), now, now + dt.timedelta(days=1),
                )
                await conn.execute(
                    "INSERT INTO member (account_id, territory_id, role, verified, joined_at)"
                    " VALUES ($1, $2, 'CITIZEN', false, $3)",
                    account, territory, now,
                )
    finally:
        await conn.close()
    return tokens
