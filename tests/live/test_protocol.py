"""The graphql-transport-ws protocol held to the letter by a real server process, browser
origins, and a client that stops reading (it must not slow anyone else down).

The server runs with ALLOWED_ORIGINS=https://app.example and PARVIS_WS_SEND_TIMEOUT=1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from access.ratelimit import deployment_namespace
from schema.relay import decode_id_of
from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import PROTOCOL, Http, Live, Person, log_in, prepare_database, server_env, sign_up

SLUG = "protocol-agglo"
RESULTS = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes final } }"
FEED = """subscription($t: ID!) { feed(territoryId: $t) {
  cursor node { __typename ... on NewsPost { id title body } } } }"""
HEAVY_FEED = "subscription($t: ID!) { feed(territoryId: $t) { node { ... on NewsPost { %s } } } }" % " ".join(
    f"b{i}: body" for i in range(20)
)
VOTE = """mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }"""
NEWS = """mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } userErrors { code } } }"""
# Shared by every non-staff subscriber of the territory (subscriptions/shared.py).
HEAVY_REPLIES = "subscription($t: ID!) { officialReplies(territoryId: $t) { id body question { body } } }"
ASK = "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } userErrors { code } } }"
REPLY = "mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { reply { id } userErrors { code } } }"


@dataclass
class World:
    url: str
    territory_id: str
    odile: Person
    alice: Person

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/graphql"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, SLUG)
    env = {**server_env(), "ALLOWED_ORIGINS": "https://app.example", "PARVIS_WS_SEND_TIMEOUT": "1"}
    with ServerProcess(db, **env) as process:
        yield process


@pytest.fixture(scope="module")
async def world(server: ServerProcess) -> AsyncIterator[World]:
    url = server.url
    territory = (await Http(url)(f'{{ territory(slug: "{SLUG}") {{ id }} }}'))["territory"]["id"]
    adam = await log_in(url, f"adam@{SLUG}.example", territory)
    odile = await sign_up(url, "odile@protocol.example", "Odile", territory)
    alice = await sign_up(url, "alice@protocol.example", "Alice", territory)
    await adam.http(
        "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Mayor\"}) { userErrors { code } } }",
        {"m": odile.member_id},
    )
    yield World(url, territory, odile, alice)


async def new_poll(world: World) -> dict[str, Any]:
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    created = (await world.odile.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } userErrors { code } } }",
        {"i": {"territoryId": world.territory_id, "question": "Which?", "options": ["A", "B"], "closesAt": closes}},
    ))["createPoll"]
    assert created["userErrors"] == []
    return created["poll"]  # type: ignore[no-any-return]


async def acked(world: World) -> ClientConnection:
    conn = await connect(world.ws_url, subprotocols=[PROTOCOL], open_timeout=5)
    await conn.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "connection_ack"
    return conn


async def close_code(conn: ClientConnection, wait: float = 5) -> int | None:
    """Read until the server closes; its close code."""
    try:
        async with asyncio.timeout(wait):
            while True:
                await conn.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def subscribe(op: str, query: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})


# --- close codes --------------------------------------------------------------------


@pytest.mark.parametrize("frame", [
    "not json",
    "[]",
    '"connection_init"',
    "42",
    '{"type": 5}',
    '{"type": "nonsense"}',
    '{"id": "1", "type": "subscribe"}',
    '{"id": "1", "type": "subscribe", "payload": "{ __typename }"}',
    '{"id": "1", "type": "subscribe", "payload": {"variables": {}}}',
    '{"id": 1, "type": "subscribe", "payload": {"query": "subscription { __typename }"}}',
    '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": [1]}}',
    '{"type": "complete"}',
    b"\x00binary",
])
async def test_a_malformed_message_closes_with_4400(world: World, frame: str | bytes) -> None:
    conn = await acked(world)
    await conn.send(frame)
    assert await close_code(conn) == 4400


async def test_a_malformed_connection_init_closes_with_4400(world: World) -> None:
    async with connect(world.ws_url, subprotocols=[PROTOCOL], open_timeout=5) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": "Bearer x"}))
        assert await close_code(conn) == 4400


async def test_a_null_init_payload_is_accepted(world: World) -> None:
    async with connect(world.ws_url, subprotocols=[PROTOCOL], open_timeout=5) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": None}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "connection_ack"


async def test_subscribing_before_the_ack_closes_with_4401(world: World) -> None:
    async with connect(world.ws_url, subprotocols=[PROTOCOL], open_timeout=5) as conn:
        await conn.send(subscribe("1", "subscription { __typename }"))
        assert await close_code(conn) == 4401


async def test_a_second_connection_init_closes_with_4429(world: World) -> None:
    conn = await acked(world)
    await conn.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await close_code(conn) == 4429


async def test_an_id_already_in_use_closes_with_4409(world: World) -> None:
    poll = await new_poll(world)
    conn = await acked(world)
    await conn.send(subscribe("same", RESULTS, {"p": poll["id"]}))
    assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "next"
    await conn.send(subscribe("same", RESULTS, {"p": poll["id"]}))
    assert await close_code(conn) == 4409


async def test_ping_gets_pong_before_and_after_the_ack(world: World) -> None:
    async with connect(world.ws_url, subprotocols=[PROTOCOL], open_timeout=5) as conn:
        await conn.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "pong"
        await conn.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "connection_ack"
        await conn.send(json.dumps({"type": "ping", "payload": {"t": 1}}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "pong"
        # A pong from the client is taken silently
        await conn.send(json.dumps({"type": "pong"}))
        await conn.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "pong"


async def test_complete_stops_a_busy_stream_at_once_and_releases_its_listener(
    world: World, server: ServerProcess
) -> None:
    poll = await new_poll(world)
    voters = [await sign_up(world.url, f"v{i}@complete.example", f"V{i}", world.territory_id, ip=f"10.9.0.{i}")
              for i in range(8)]
    conn = await acked(world)
    await conn.send(subscribe("1", RESULTS, {"p": poll["id"]}))
    assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "next"

    # While votes stream in, alice's app completes the subscription, then pings:
    # the server handles messages in order, so nothing of "1" may follow the pong.
    voting = asyncio.gather(*(
        v.http(VOTE, {"p": poll["id"], "o": [poll["options"][i % 2]["id"]]}) for i, v in enumerate(voters)
    ))
    await asyncio.sleep(0.3)
    await conn.send(json.dumps({"id": "1", "type": "complete"}))
    await conn.send(json.dumps({"type": "ping"}))
    while (message := json.loads(await asyncio.wait_for(conn.recv(), 5)))["type"] != "pong":
        assert message["id"] == "1" and message["type"] == "next", message
    await voting
    with pytest.raises(TimeoutError):
        message = json.loads(await asyncio.wait_for(conn.recv(), 1))
        raise AssertionError(f"a message after complete: {message}")

    # The id is free again at once, and the listener was let go
    await conn.send(subscribe("1", RESULTS, {"p": poll["id"]}))
    again = json.loads(await asyncio.wait_for(conn.recv(), 5))
    assert again["type"] == "next" and again["payload"]["data"]["pollResults"]["totalVotes"] == len(voters)
    if os.environ.get("TEST_REDIS_URL"):
        namespace = deployment_namespace(server.database_url)
        channel = f"parvis:{namespace}:poll:{decode_id_of(poll['id'], 'Poll')}"
        assert await redis_subscribers(channel) == 1
        await conn.send(json.dumps({"id": "1", "type": "complete"}))
        await wait_until(lambda: redis_subscribers(channel), 0)
    await conn.close()


async def redis_subscribers(channel: str) -> int:
    import redis.asyncio as redis

    client = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    try:
        return int((await client.pubsub_numsub(channel))[0][1])
    finally:
        await client.aclose()


async def wait_until(probe: Any, expected: Any, timeout: float = 3) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (value := await probe()) != expected:
        assert loop.time() < deadline, f"still {value}, expected {expected}"
        await asyncio.sleep(0.05)


# --- origins ------------------------------------------------------------------------


async def test_only_listed_browser_origins_and_apps_without_origin_may_connect(world: World) -> None:
    # A page on another site is refused at the handshake
    with pytest.raises(InvalidStatus) as refused:
        await connect(world.ws_url, subprotocols=[PROTOCOL], origin=Origin("https://evil.example"), open_timeout=5)
    assert refused.value.response.status_code == 403
    # The SPA's own origin is accepted
    async with connect(world.ws_url, subprotocols=[PROTOCOL], origin=Origin("https://app.example"),
                       open_timeout=5) as spa:
        await spa.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await asyncio.wait_for(spa.recv(), 5))["type"] == "connection_ack"
    # A mobile app sends no Origin at all: accepted
    async with await Live.open(world.url, world.alice.token):
        pass


# --- a client that stops reading ----------------------------------------------------


async def stalled_client(world: World) -> ClientConnection:
    """A connection that will stop reading: a small TCP receive buffer, and a client that
    stops taking frames from the socket once one message waits unread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = world.url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.setblocking(False)
    # Without compression: what the server sends is what fills the buffers.
    conn = await connect(world.ws_url, sock=sock, subprotocols=[PROTOCOL], open_timeout=5, max_queue=1,
                         compression=None)
    await conn.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(conn.recv(), 5))["type"] == "connection_ack"
    return conn


async def test_a_client_that_stops_reading_delays_nobody_and_is_closed(world: World) -> None:
    poll = await new_poll(world)
    laggard = await stalled_client(world)
    # It asks for heavy messages: each news body twenty times over (about 400 kB a message)
    await laggard.send(subscribe("feed", HEAVY_FEED, {"t": world.territory_id}))
    await laggard.send(subscribe("poll", RESULTS, {"p": poll["id"]}))
    async with await Live.open(world.url, world.alice.token) as alice:
        feed = await alice.subscribe(FEED, {"t": world.territory_id})
        results = await alice.subscribe(RESULTS, {"p": poll["id"]})
        assert (await alice.next(results))["pollResults"]["totalVotes"] == 0
        await asyncio.sleep(0.2)

        # A busy territory: 60 news of 20,000 characters while the laggard reads nothing (24 MB for it)
        body = "x" * 20_000
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        for i in range(60):
            done = await world.odile.http(NEWS, {"i": {"territoryId": world.territory_id, "title": f"N{i}",
                                                       "body": body}})
            sent = loop.time()
            got = (await alice.next(feed, timeout=3))["feed"]["node"]
            lags.append(loop.time() - sent)
            assert got["id"] == done["publishNews"]["newsPost"]["id"]
        # Alice never waited on the laggard: each item reached her well under the send timeout
        assert max(lags) < 0.5, lags
        # The poll still moves for her
        await world.alice.http(VOTE, {"p": poll["id"], "o": [poll["options"][0]["id"]]})
        assert (await alice.next(results))["pollResults"]["totalVotes"] == 1

        # The laggard was closed with 1013 (try again later) once a send waited over 1 s:
        # when it reads again it finds what was buffered, then the close.
        await asyncio.sleep(1.5)
        received = 0
        try:
            async with asyncio.timeout(10):
                while True:
                    await laggard.recv()
                    received += 1
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1013, closed
            assert "resume" in closed.rcvd.reason
        assert received < 60


async def test_a_laggard_in_a_shared_stream_delays_no_other_member_and_is_closed(world: World) -> None:
    laggard = await stalled_client(world)
    # It watches the territory's replies a hundred times over, in the same shared group as
    # alice (the same document, anonymous and citizen alike): each reply of 40 kB with its
    # question is 4 MB for it
    for i in range(100):
        await laggard.send(subscribe(f"r{i}", HEAVY_REPLIES, {"t": world.territory_id}))
    async with await Live.open(world.url, world.alice.token) as alice:
        replies = await alice.subscribe(HEAVY_REPLIES, {"t": world.territory_id})
        await asyncio.sleep(0.3)  # the territory hub listens

        # Six questions answered while the laggard reads nothing (24 MB for it)
        body = "y" * 19_000
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        for i in range(6):
            asked = (await world.alice.http(ASK, {"i": {
                "territoryId": world.territory_id, "officialId": world.odile.member_id, "title": f"Q{i}",
                "body": body}}))["askQuestion"]
            assert asked["userErrors"] == []
            replied = (await world.odile.http(REPLY, {"i": {"questionId": asked["question"]["id"],
                                                            "body": body}}))["replyToQuestion"]
            sent = loop.time()
            got = (await alice.next(replies, timeout=3))["officialReplies"]
            lags.append(loop.time() - sent)
            assert got["id"] == replied["reply"]["id"] and got["question"]["body"] == body
        # Alice, in the same group, never waited on the laggard
        assert max(lags) < 0.5, lags

        # The laggard was closed with 1013 once a send waited over 1 s
        await asyncio.sleep(1.5)
        received = 0
        try:
            async with asyncio.timeout(10):
                while True:
                    await laggard.recv()
                    received += 1
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1013, closed
        assert received < 600
        # And alice's stream goes on
        asked = (await world.alice.http(ASK, {"i": {
            "territoryId": world.territory_id, "officialId": world.odile.member_id, "title": "After",
            "body": "Still there?"}}))["askQuestion"]
        await world.odile.http(REPLY, {"i": {"questionId": asked["question"]["id"], "body": "Yes."}})
        assert (await alice.next(replies, timeout=3))["officialReplies"]["body"] == "Yes."


# --- graceful shutdown --------------------------------------------------------------


def test_sigterm_closes_open_streams_cleanly_and_the_server_exits() -> None:
    db = new_database_url()
    prepare_database(db, "shutdown-agglo")
    server = ServerProcess(db, **server_env()).start()

    async def watch() -> list[Any]:
        url = server.url
        territory = (await Http(url)('{ territory(slug: "shutdown-agglo") { id } }'))["territory"]["id"]
        adam = await log_in(url, "adam@shutdown-agglo.example", territory)
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
        poll = (await adam.http(
            "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id } } }",
            {"i": {"territoryId": territory, "question": "Q?", "options": ["A", "B"], "closesAt": closes}},
        ))["createPoll"]["poll"]
        phones = [await Live.open(url, adam.token) for _ in range(3)]
        for phone in phones:
            op = await phone.subscribe(RESULTS, {"p": poll["id"]})
            await phone.next(op)
            await phone.subscribe(FEED, {"t": territory})
        assert server.proc is not None
        server.proc.terminate()  # SIGTERM, as a deploy or `docker stop` sends it
        outcomes: list[Any] = []
        for phone in phones:
            try:
                async with asyncio.timeout(5):
                    while True:
                        message = json.loads(await phone.conn.recv())
                        if message["type"] == "complete":
                            outcomes.append("complete")
            except ConnectionClosed as closed:
                outcomes.append(closed.rcvd.code if closed.rcvd else None)
        return outcomes

    try:
        outcomes = asyncio.run(watch())
        # Every phone gets a close frame with 1012 "service restart" (uvicorn's, sent at
        # SIGTERM): graphql-ws clients reconnect to another process and resume with
        # `after`, where a `complete` would end their subscriptions for good.
        assert outcomes == [1012, 1012, 1012], outcomes
        assert server.proc is not None
        # uvicorn re-raises SIGTERM once its shutdown is done, so the exit status is -15;
        # the log shows the lifespan (Tortoise, broker) was closed in order.
        assert server.proc.wait(timeout=10) == -15
        assert "Application shutdown complete." in server.stderr()
    finally:
        server.stop()
