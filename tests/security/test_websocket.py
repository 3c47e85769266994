"""A websocket is held to the rules of an HTTP request on every operation (issue 10 §1):
its token is checked again, it gets fresh loaders and a fresh view of roles and visibility,
and it pays the address rate limit, the cost limit and the operation timeout.

Against a real `python server.py serve` process over a real websocket (with Redis as broker
and rate-limit store when TEST_REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import PROTOCOL, WAIT, Http, Live, Person, log_in, prepare_database, server_env, sign_up

PROPOSE = """mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { idea { id } userErrors { code } } }"""
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id } userErrors { code } } }"""
REPORT = """mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id } } }"""
MODERATE = """mutation($i: ModerateContentInput!) { moderateContent(input: $i) { report { status } } }"""
SET_ROLE = """mutation($m: ID!, $r: Role!) { setMemberRole(input: {memberId: $m, role: $r}) { userErrors { code } } }"""
REPORTS = """query($s: String!) { territory(slug: $s) { reports(first: 5) { edges { node { id } } } } }"""
IDEA = """query($id: ID!) { node(id: $id) { ... on Idea { id title } } }"""
IDEAS = """query($s: String!) { territory(slug: $s) { ideas(first: 100) { edges { node { title } } } } }"""
NEWS = """mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } userErrors { code } } }"""
FEED = """subscription($t: ID!) { feed(territoryId: $t) { cursor node { __typename } } }"""
FORBIDDEN_CLOSE = 4403


@dataclass
class World:
    url: str
    territory_id: str
    slug: str
    adam: Person
    mona: Person
    people: int = 0

    async def newcomer(self) -> Person:
        self.people += 1
        return await sign_up(self.url, f"w{self.people}-{uuid.uuid4().hex[:6]}@example.org", f"W{self.people}",
                             self.territory_id)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, "ws-agglo")
    with ServerProcess(db, **server_env()) as process:
        yield process


@pytest.fixture(scope="module")
async def world(server: ServerProcess) -> AsyncIterator[World]:
    url = server.url
    territory = (await Http(url)('{ territory(slug: "ws-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(url, "adam@ws-agglo.example", territory)
    mona = await sign_up(url, "mona@example.org", "Mona", territory)
    await adam.http(SET_ROLE, {"m": mona.member_id, "r": "MODERATOR"})
    yield World(url, territory, "ws-agglo", adam, mona)


async def result(live: Live, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payload (data and errors) of a query or mutation sent over the socket; an `error`
    message (refused before execution) as {"errors": [...]}."""
    op = await live.subscribe(query, variables)
    message = await live.message(op)
    if message["type"] == "error":
        return {"errors": message["payload"]}
    assert message["type"] == "next", message
    await live.completes(op)
    return message["payload"]  # type: ignore[no-any-return]


async def closes_with(live: Live, query: str, variables: dict[str, Any] | None = None) -> int | None:
    """Sends an operation; the close code the server answers it with (fails if it answers)."""
    op = await live.subscribe(query, variables)
    try:
        message = await live.message(op)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    raise AssertionError(f"the socket answered: {message}")


async def idea_titles(world: World) -> list[str]:
    data = await world.adam.http(IDEAS, {"s": world.slug})
    return [edge["node"]["title"] for edge in data["territory"]["ideas"]["edges"]]


async def test_a_socket_whose_token_was_revoked_runs_nothing(world: World):
    # Given alice's socket, opened with her token
    alice = await world.newcomer()
    async with await Live.open(world.url, alice.token) as live:
        assert (await result(live, "{ viewer { displayName } }"))["data"]["viewer"] is not None
        # When she logs out over HTTP, then proposes an idea on the old socket
        assert (await alice.http("mutation { logOut }"))["logOut"] is True
        title = f"After logout {uuid.uuid4().hex[:6]}"
        code = await closes_with(live, PROPOSE, {"i": {"territoryId": world.territory_id, "title": title,
                                                       "body": "Written with a revoked token."}})
    # Then the socket is closed as forbidden and nothing was written
    assert code == FORBIDDEN_CLOSE
    assert title not in await idea_titles(world)


async def test_a_socket_of_an_erased_account_reads_nothing(world: World):
    # Given bea's socket, which read her email
    bea = await world.newcomer()
    async with await Live.open(world.url, bea.token) as live:
        email = (await result(live, "{ viewer { email } }"))["data"]["viewer"]["email"]
        assert email.endswith("@example.org")
        # When she erases her account over HTTP
        assert (await bea.http("mutation($i: DeleteAccountInput!) { deleteAccount(input: $i) }",
                               {"i": {"password": "a long passphrase"}}))["deleteAccount"] is True
        # Then the old socket may not read her email again
        assert await closes_with(live, "{ viewer { email } }") == FORBIDDEN_CLOSE


async def test_a_live_subscription_ends_when_its_token_is_revoked(world: World):
    # Given carl watching the feed on his socket
    carl = await world.newcomer()
    async with await Live.open(world.url, carl.token) as live:
        op = await live.subscribe(FEED, {"t": world.territory_id})
        await asyncio.sleep(0.3)  # the subscription is listening
        # When he logs out over HTTP, and news is published afterwards
        assert (await carl.http("mutation { logOut }"))["logOut"] is True
        published = await world.adam.http(NEWS, {"i": {"territoryId": world.territory_id,
                                                      "title": "Roadworks", "body": "From Monday."}})
        assert published["publishNews"]["userErrors"] == []
        # Then the stream ends with UNAUTHENTICATED instead of pushing the news
        message = await live.message(op)
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await live.completes(op)
        # And the socket's next operation closes it as forbidden
        assert await closes_with(live, "{ viewer { displayName } }") == FORBIDDEN_CLOSE


async def test_a_moderator_demoted_over_http_moderates_nothing_on_an_old_socket(world: World):
    # Given dora, a moderator, whose socket has read the territory's reports
    dora = await world.newcomer()
    await world.adam.http(SET_ROLE, {"m": dora.member_id, "r": "MODERATOR"})
    async with await Live.open(world.url, dora.token) as live:
        read = await result(live, REPORTS, {"s": world.slug})
        assert "errors" not in read, read
        # When an admin demotes her over HTTP
        await world.adam.http(SET_ROLE, {"m": dora.member_id, "r": "CITIZEN"})
        # Then her old socket reads no report any more
        again = await result(live, REPORTS, {"s": world.slug})
    assert again["errors"][0]["extensions"]["code"] == "FORBIDDEN", again


async def test_a_citizen_socket_sees_no_idea_hidden_since_it_read_it(world: World):
    # Given eve's socket, which read an idea
    eve = await world.newcomer()
    proposed = await world.mona.http(PROPOSE, {"i": {"territoryId": world.territory_id, "title": "A bench",
                                                     "body": "By the river."}})
    idea_id = proposed["proposeIdea"]["idea"]["id"]
    async with await Live.open(world.url, eve.token) as live:
        assert (await result(live, IDEA, {"id": idea_id}))["data"]["node"]["id"] == idea_id
        # When a moderator hides it over HTTP
        report = await eve.http(REPORT, {"i": {"subjectId": idea_id, "reason": "Off charter."}})
        moderated = await world.mona.http(MODERATE, {"i": {"reportId": report["reportContent"]["report"]["id"],
                                                           "action": "HIDE"}})
        assert moderated["moderateContent"]["report"]["status"] != "OPEN"
        # Then the old socket neither reads nor comments it
        assert (await result(live, IDEA, {"id": idea_id}))["data"]["node"] is None
        commented = await result(live, COMMENT, {"i": {"subjectId": idea_id, "body": "Still here?"}})
    assert commented["data"]["addComment"]["comment"] is None
    assert commented["data"]["addComment"]["userErrors"], commented


# A server with a small address limit and a short operation timeout.

@pytest.fixture(scope="module")
def strict_server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, "ws-strict")
    # The test plays a reverse proxy on loopback, trusted to name each socket's client.
    env = {**server_env(), "PARVIS_RATE_LIMITS": "requests_ip=6/60", "PARVIS_OPERATION_TIMEOUT": "0.05",
           "PARVIS_TRUSTED_PROXIES": "127.0.0.1"}
    with ServerProcess(db, **env) as process:
        yield process


async def open_from(url: str, ip: str) -> Live:
    """An anonymous socket that the server sees coming from `ip` (the strict server trusts
    loopback's X-Forwarded-For: PARVIS_TRUSTED_PROXIES)."""
    conn = await connect(url.replace("http", "ws", 1) + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT,
                         additional_headers={"X-Forwarded-For": ip})
    live = Live(conn)
    await conn.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert (await live._recv())["type"] == "connection_ack"
    return live


async def test_socket_operations_pay_the_address_rate_limit(strict_server: ServerProcess):
    # Given a socket from 203.0.113.7, whose address may make 6 requests a minute
    async with await open_from(strict_server.url, "203.0.113.7") as live:
        # When it sends 8 queries
        answers = [await result(live, "{ __typename }") for _ in range(8)]
    # Then the first 6 are answered and the others refused as RATE_LIMITED
    assert [a.get("data") for a in answers[:6]] == [{"__typename": "Query"}] * 6
    for refused in answers[6:]:
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED", refused
        assert refused["errors"][0]["extensions"]["retryAfter"] >= 1


async def test_socket_operations_pay_the_operation_timeout(strict_server: ServerProcess):
    # Given a server that stops operations after 50 ms; a logIn hashes for longer
    async with await open_from(strict_server.url, "203.0.113.8") as live:
        # When a logIn is sent over the socket
        answer = await result(live, "mutation { logIn(input: {email: \"adam@ws-strict.example\", "
                                    "password: \"a long passphrase\"}) { token } }")
    # Then it is stopped with the timeout's code, as over HTTP
    assert answer["errors"][0]["extensions"]["code"] == "TIMEOUT", answer


async def test_socket_operations_pay_the_cost_limit(strict_server: ServerProcess):
    # Given a query that could return 100 x 100 x 100 nodes
    query = """query { territories(first: 100) { edges { node { ideas(first: 100) { edges { node {
        comments(first: 100) { edges { node { id } } } } } } } } } }"""
    async with await open_from(strict_server.url, "203.0.113.9") as live:
        answer = await result(live, query)
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED", answer
