"""Mobile apps watch polls, replies, the feed and their notifications over a websocket
(graphql-transport-ws), against a real `python server.py serve` process (with Redis as
the broker when TEST_REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import Http, Live, Person, closed_with, log_in, prepare_database, server_env, sign_up

RESULTS = """subscription($p: ID!) { pollResults(pollId: $p) {
  totalVotes final options { votes share option { label } } poll { id status } } }"""
REPLIES = """subscription($t: ID!, $o: ID) { officialReplies(territoryId: $t, officialId: $o) {
  id body official { id title } question { title } } }"""
FEED = """subscription($t: ID!, $a: String) { feed(territoryId: $t, after: $a) {
  cursor node { __typename ... on NewsPost { id title } ... on Reply { id } ... on Poll { id } } } }"""
NOTIFICATIONS = """subscription($a: String) { notifications(after: $a) { cursor node { id kind message } } }"""

CREATE_POLL = """mutation($i: CreatePollInput!) { createPoll(input: $i) {
  poll { id options { id label } } userErrors { code field } } }"""
VOTE = """mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }"""
CLOSE = """mutation($p: ID!) { closePoll(input: {pollId: $p}) { poll { status } userErrors { code } } }"""
NEWS = """mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } userErrors { code } } }"""
ASK = """mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } userErrors { code } } }"""
REPLY = """mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { reply { id } userErrors { code } } }"""
REPORT = """mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id } } }"""
MODERATE = """mutation($i: ModerateContentInput!) { moderateContent(input: $i) { report { status } } }"""
FEED_HEAD = """query($s: String!) { territory(slug: $s) { feed(first: 1) { edges { cursor } } } }"""
INBOX_HEAD = """{ viewer { notifications(first: 1) { edges { cursor node { id } } } } }"""


@dataclass
class World:
    url: str
    territory_id: str
    slug: str
    adam: Person
    odile: Person
    alice: Person
    mona: Person
    people: int = 0

    async def newcomer(self) -> Person:
        self.people += 1
        return await sign_up(self.url, f"p{self.people}-{uuid.uuid4().hex[:6]}@example.org", f"P{self.people}",
                             self.territory_id)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, "live-agglo")
    with ServerProcess(db, **server_env()) as process:
        yield process


@pytest.fixture(scope="module")
async def world(server: ServerProcess) -> AsyncIterator[World]:
    url = server.url
    territory = (await Http(url)('{ territory(slug: "live-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(url, "adam@live-agglo.example", territory)
    odile = await sign_up(url, "odile@example.org", "Odile", territory)
    alice = await sign_up(url, "alice@example.org", "Alice", territory)
    mona = await sign_up(url, "mona@example.org", "Mona", territory)
    await adam.http(
        "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Mayor\"}) { userErrors { code } } }",
        {"m": odile.member_id},
    )
    await adam.http(
        "mutation($m: ID!) { setMemberRole(input: {memberId: $m, role: MODERATOR}) { userErrors { code } } }",
        {"m": mona.member_id},
    )
    yield World(url, territory, "live-agglo", adam, odile, alice, mona)


async def new_poll(world: World, *, visibility: str = "LIVE", closes_in: float = 3600) -> dict[str, Any]:
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=closes_in)).isoformat()
    created = (await world.odile.http(CREATE_POLL, {"i": {
        "territoryId": world.territory_id, "question": "Which route?", "options": ["North", "South"],
        "closesAt": closes, "resultsVisibility": visibility,
    }}))["createPoll"]
    assert created["userErrors"] == []
    return created["poll"]  # type: ignore[no-any-return]


async def vote(person: Person, poll: dict[str, Any], index: int = 0) -> None:
    voted = await person.http(VOTE, {"p": poll["id"], "o": [poll["options"][index]["id"]]})
    assert voted["castVote"]["userErrors"] == []


async def feed_head(world: World) -> str | None:
    edges = (await world.alice.http(FEED_HEAD, {"s": world.slug}))["territory"]["feed"]["edges"]
    return edges[0]["cursor"] if edges else None


async def publish(world: World, title: str) -> str:
    done = (await world.odile.http(NEWS, {"i": {"territoryId": world.territory_id, "title": title, "body": "…"}}))
    assert done["publishNews"]["userErrors"] == []
    return done["publishNews"]["newsPost"]["id"]  # type: ignore[no-any-return]


async def answered_question(world: World, asker: Person, title: str) -> str:
    asked = (await asker.http(ASK, {"i": {
        "territoryId": world.territory_id, "officialId": world.odile.member_id, "title": title, "body": "Please?",
    }}))["askQuestion"]
    assert asked["userErrors"] == []
    replied = (await world.odile.http(REPLY, {"i": {"questionId": asked["question"]["id"], "body": f"Re: {title}"}}))
    assert replied["replyToQuestion"]["userErrors"] == []
    return replied["replyToQuestion"]["reply"]["id"]  # type: ignore[no-any-return]


async def hide(world: World, subject_id: str) -> None:
    report = (await world.alice.http(REPORT, {"i": {"subjectId": subject_id, "reason": "Off charter."}}))
    decided = await world.mona.http(
        MODERATE, {"i": {"reportId": report["reportContent"]["report"]["id"], "action": "HIDE"}}
    )
    assert decided["moderateContent"]["report"]["status"] == "HIDDEN"


# --- connection ---------------------------------------------------------------------


async def test_connection_init_authenticates_with_a_bearer_token(world: World) -> None:
    # Given alice's token, an anonymous init and a forged token
    assert await closed_with(world.url, {"authorization": f"Bearer {world.alice.token}"}) is None
    assert await closed_with(world.url, {}) is None
    # Then a bad token closes the socket with 4403
    assert await closed_with(world.url, {"authorization": "Bearer not-a-token"}) == 4403
    assert await closed_with(world.url, {"authorization": "Basic abc"}) == 4403


async def test_a_silent_client_is_closed_after_the_init_timeout(world: World) -> None:
    # The server runs with PARVIS_WS_INIT_TIMEOUT=1
    assert await closed_with(world.url, None, wait=4) == 4408


# --- pollResults --------------------------------------------------------------------


async def test_alice_watches_a_poll_move_then_close(world: World) -> None:
    poll = await new_poll(world)
    async with await Live.open(world.url, world.alice.token) as live:
        op = await live.subscribe(RESULTS, {"p": poll["id"]})
        first = (await live.next(op))["pollResults"]
        assert first["totalVotes"] == 0 and first["final"] is False
        assert [o["votes"] for o in first["options"]] == [0, 0]
        assert first["poll"] == {"id": poll["id"], "status": "OPEN"}

        # When alice votes over HTTP: the ballot count moves, her choice does not show alone
        # (it waits, sealed, for a batch of the territory's K = 5 ballots: docs/adr/0009)
        await vote(world.alice, poll, 1)
        moved = (await live.next(op))["pollResults"]
        assert moved["totalVotes"] == 1 and moved["final"] is False
        assert [(o["option"]["label"], o["votes"], o["share"]) for o in moved["options"]] == [
            ("North", 0, 0.0), ("South", 0, 0.0)
        ]

        # When odile closes the poll: a last message with final: true and every ballot
        # counted, then complete
        closed = (await world.odile.http(CLOSE, {"p": poll["id"]}))["closePoll"]
        assert closed["userErrors"] == []
        last = (await live.next(op))["pollResults"]
        assert last["final"] is True and last["totalVotes"] == 1 and last["poll"]["status"] == "CLOSED"
        assert [(o["option"]["label"], o["votes"], o["share"]) for o in last["options"]] == [
            ("North", 0, 0.0), ("South", 1, 1.0)
        ]
        await live.completes(op)


async def test_an_after_close_poll_shows_only_the_ballot_count_until_it_closes(world: World) -> None:
    poll = await new_poll(world, visibility="AFTER_CLOSE")
    async with await Live.open(world.url) as live:  # anonymous viewers may watch
        op = await live.subscribe(RESULTS, {"p": poll["id"]})
        assert (await live.next(op))["pollResults"]["options"] is None
        await vote(world.alice, poll, 0)
        moved = (await live.next(op))["pollResults"]
        assert moved["totalVotes"] == 1 and moved["options"] is None
        await world.odile.http(CLOSE, {"p": poll["id"]})
        last = (await live.next(op))["pollResults"]
        assert last["final"] is True and [o["votes"] for o in last["options"]] == [1, 0]
        await live.completes(op)


async def test_a_poll_closes_by_the_clock_with_nobody_acting(world: World) -> None:
    poll = await new_poll(world, closes_in=1.5)
    async with await Live.open(world.url) as live:
        op = await live.subscribe(RESULTS, {"p": poll["id"]})
        assert (await live.next(op))["pollResults"]["final"] is False
        last = (await live.next(op, timeout=5))["pollResults"]
        assert last["final"] is True and last["poll"]["status"] == "CLOSED"
        await live.completes(op)


async def test_a_storm_of_votes_is_coalesced_and_the_last_state_arrives(world: World) -> None:
    poll = await new_poll(world)
    voters = [await world.newcomer() for _ in range(12)]
    async with await Live.open(world.url) as live:
        op = await live.subscribe(RESULTS, {"p": poll["id"]})
        assert (await live.next(op))["pollResults"]["totalVotes"] == 0
        await asyncio.gather(*(vote(v, poll, i % 2) for i, v in enumerate(voters)))
        seen: list[int] = []
        while not seen or seen[-1] < len(voters):
            last = (await live.next(op))["pollResults"]
            seen.append(last["totalVotes"])
        assert seen[-1] == len(voters)
        assert len(seen) < len(voters), seen  # coalesced, not one message per vote
        # A batch of sealed ballots counted after the last vote (resolvers/tally.py) moves the
        # options' counts: that state comes too, never the same state twice.
        while True:
            try:
                state = (await live.next(op, timeout=0.5))["pollResults"]
            except TimeoutError:
                break
            assert state != last and state["totalVotes"] == len(voters), (state, last)
            last = state


async def test_an_unknown_poll_is_not_found(world: World) -> None:
    async with await Live.open(world.url) as live:
        op = await live.subscribe(RESULTS, {"p": "UG9sbDo5OTk5OTk"})
        message = await live.message(op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_hidden_poll_is_pushed_to_moderators_only(world: World) -> None:
    poll = await new_poll(world)
    async with await Live.open(world.url, world.alice.token) as alice, \
            await Live.open(world.url, world.mona.token) as mona:
        a = await alice.subscribe(RESULTS, {"p": poll["id"]})
        m = await mona.subscribe(RESULTS, {"p": poll["id"]})
        await alice.next(a)
        await mona.next(m)
        # When a moderator hides the poll, then votes in it
        await hide(world, poll["id"])
        await vote(world.mona, poll, 0)
        assert (await mona.next(m))["pollResults"]["totalVotes"] == 1
        # Then alice's stream shows nothing of it
        await alice.silent(a, 0.6)


# --- officialReplies ----------------------------------------------------------------


async def test_alice_sees_odiles_replies_as_they_are_published(world: World) -> None:
    async with await Live.open(world.url, world.alice.token) as live:
        everyone = await live.subscribe(REPLIES, {"t": world.territory_id})
        odiles = await live.subscribe(REPLIES, {"t": world.territory_id, "o": world.odile.member_id})
        others = await live.subscribe(REPLIES, {"t": world.territory_id, "o": world.mona.member_id})
        await asyncio.sleep(0.2)  # let the subscriptions start
        reply_id = await answered_question(world, world.alice, "When does the bus run?")
        for op in (everyone, odiles):
            got = (await live.next(op))["officialReplies"]
            assert got["id"] == reply_id and got["body"] == "Re: When does the bus run?"
            assert got["official"] == {"id": world.odile.member_id, "title": "Mayor"}
        await live.silent(others, 0.3)


# --- feed ---------------------------------------------------------------------------


async def test_the_feed_replays_what_was_missed_then_goes_live_without_duplicates(world: World) -> None:
    cursor = await feed_head(world)
    missed = [await publish(world, "Missed one"), await publish(world, "Missed two")]
    async with await Live.open(world.url) as live:
        op = await live.subscribe(FEED, {"t": world.territory_id, "a": cursor})
        replayed = [(await live.next(op))["feed"] for _ in missed]
        assert [e["node"]["id"] for e in replayed] == missed  # oldest first
        live_one = await publish(world, "Live one")
        edge = (await live.next(op))["feed"]
        assert edge["node"] == {"__typename": "NewsPost", "id": live_one, "title": "Live one"}
        await live.silent(op, 0.5)

        # Resuming from the last cursor received replays nothing already seen
        again = await live.subscribe(FEED, {"t": world.territory_id, "a": replayed[-1]["cursor"]})
        assert (await live.next(again))["feed"]["node"]["id"] == live_one
        await live.silent(again, 0.5)


async def test_the_feed_seam_under_concurrent_publishing(world: World) -> None:
    cursor = await feed_head(world)
    # Publish while the subscription starts: every item exactly once, in order.
    async with await Live.open(world.url) as live:
        publishing = asyncio.gather(*(publish(world, f"Burst {i}") for i in range(6)))
        op = await live.subscribe(FEED, {"t": world.territory_id, "a": cursor})
        ids = sorted(await publishing)
        got = [(await live.next(op))["feed"]["node"]["id"] for _ in ids]
        assert sorted(got) == ids and len(set(got)) == len(ids)
        await live.silent(op, 0.5)


async def test_hidden_items_are_not_replayed(world: World) -> None:
    cursor = await feed_head(world)
    bad = await publish(world, "Off charter")
    good = await publish(world, "Fine")
    await hide(world, bad)
    async with await Live.open(world.url) as live:
        op = await live.subscribe(FEED, {"t": world.territory_id, "a": cursor})
        assert (await live.next(op))["feed"]["node"]["id"] == good
        await live.silent(op, 0.5)


async def test_a_bad_feed_cursor_is_refused(world: World) -> None:
    async with await Live.open(world.url) as live:
        op = await live.subscribe(FEED, {"t": world.territory_id, "a": "nonsense!"})
        message = await live.message(op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- notifications ------------------------------------------------------------------


async def test_notifications_need_authentication(world: World) -> None:
    async with await Live.open(world.url) as live:
        op = await live.subscribe(NOTIFICATIONS)
        message = await live.message(op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_alice_gets_her_notifications_replayed_then_live(world: World) -> None:
    bob = await world.newcomer()
    await answered_question(world, bob, "First question")
    await answered_question(world, bob, "Second question")
    head = (await bob.http(INBOX_HEAD))["viewer"]["notifications"]["edges"]
    # The cursor before the second notification: replay starts with it
    everything = (await bob.http("{ viewer { notifications(first: 2) { edges { cursor node { id } } } } }"))
    older = everything["viewer"]["notifications"]["edges"][1]["cursor"]
    async with await Live.open(world.url, bob.token) as live, await Live.open(world.url, world.alice.token) as other:
        op = await live.subscribe(NOTIFICATIONS, {"a": older})
        others = await other.subscribe(NOTIFICATIONS)
        replayed = (await live.next(op))["notifications"]
        assert replayed["node"]["id"] == head[0]["node"]["id"] and replayed["cursor"] == head[0]["cursor"]
        assert replayed["node"]["kind"] == "QUESTION_ANSWERED"
        await live.silent(op, 0.3)
        await answered_question(world, bob, "Third question")
        fresh = (await live.next(op))["notifications"]
        assert "Third question" in fresh["node"]["message"]
        await live.silent(op, 0.3)
        await other.silent(others, 0.2)  # only one's own


async def test_poll_closing_notifies_voters_live(world: World) -> None:
    # do_notify_many sends no id: the stream re-reads the voter's rows.
    poll = await new_poll(world)
    carol = await world.newcomer()
    await vote(carol, poll)
    async with await Live.open(world.url, carol.token) as live:
        op = await live.subscribe(NOTIFICATIONS)
        await asyncio.sleep(0.2)
        await world.odile.http(CLOSE, {"p": poll["id"]})
        got = (await live.next(op))["notifications"]
        assert got["node"]["kind"] == "POLL_CLOSED"


async def test_the_legacy_graphql_ws_protocol_is_off(world: World) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.typing import Subprotocol

    url = world.url.replace("http", "ws", 1) + "/graphql"
    try:
        async with connect(url, subprotocols=[Subprotocol("graphql-ws")], open_timeout=5) as conn:
            await asyncio.wait_for(conn.recv(), 5)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4406
    except InvalidHandshake:
        pass  # refused at the upgrade: as good
    else:
        raise AssertionError("the legacy protocol was served")


async def test_a_viewer_who_logged_out_stops_receiving_notifications(world: World) -> None:
    # Given dora watching her notifications on her phone
    dora = await world.newcomer()
    poll = await new_poll(world)
    await vote(dora, poll)
    async with await Live.open(world.url, dora.token) as live:
        op = await live.subscribe(NOTIFICATIONS)
        await asyncio.sleep(0.2)
        # When she logs out on the web with the same token, then a notification arrives for her
        assert (await dora.http("mutation { logOut }"))["logOut"] is True
        await world.odile.http(CLOSE, {"p": poll["id"]})
        # Then the stream ends with UNAUTHENTICATED instead of pushing it
        message = await live.message(op)
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await live.completes(op)


async def test_query_limits_hold_over_websockets_too(world: World) -> None:
    async with await Live.open(world.url) as live:
        many = "subscription($t: ID!) { feed(territoryId: $t) { " + " ".join(
            f"a{i}: cursor" for i in range(31)) + " } }"
        op = await live.subscribe(many, {"t": world.territory_id})
        message = await live.message(op)
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
        deep = "subscription($p: ID!) { pollResults(pollId: $p) { poll { project { polls(first: 100) { edges { node { project { polls(first: 100) { edges { node { id } } } } } } } } } } }"
        op = await live.subscribe(deep, {"p": "x"})
        message = await live.message(op)
        # The cost is known once variables are: refused before anything streams.
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
        await live.completes(op)
