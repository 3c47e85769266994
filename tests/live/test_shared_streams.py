"""A crowd of phones watching the same poll share one execution per event (subscriptions/
shared.py), against a real `python server.py serve` process and real websockets (with Redis
as the broker when TEST_REDIS_URL is set): each gets the same tally under its own
subscription id, hidden polls still reach staff only, members come and go freely, and the
final tally reaches everyone before `complete`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import Http, Live, Person, log_in, prepare_database, server_env, sign_up

SLUG = "shared-agglo"
RESULTS = """subscription($p: ID!) { pollResults(pollId: $p) {
  totalVotes final options { votes share option { label } } poll { id status } } }"""
# viewerHasVoted depends on who asks: never shared.
PERSONAL = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes poll { viewerHasVoted } } }"
REPLIES = "subscription($t: ID!) { officialReplies(territoryId: $t) { id body official { title } } }"
CREATE_POLL = """mutation($i: CreatePollInput!) { createPoll(input: $i) {
  poll { id options { id label } } userErrors { code field } } }"""
VOTE = "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }"
CLOSE = "mutation($p: ID!) { closePoll(input: {pollId: $p}) { poll { status } userErrors { code } } }"
REPORT = "mutation($i: ReportContentInput!) { reportContent(input: $i) { report { id } } }"
MODERATE = "mutation($i: ModerateContentInput!) { moderateContent(input: $i) { report { status } } }"
ASK = "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } userErrors { code } } }"
REPLY = "mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { reply { id } userErrors { code } } }"
CROWD = 12


@dataclass
class World:
    url: str
    territory_id: str
    adam: Person
    odile: Person
    alice: Person
    mona: Person
    bob: Person


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, SLUG)
    with ServerProcess(db, **server_env()) as process:
        yield process


@pytest.fixture(scope="module")
async def world(server: ServerProcess) -> AsyncIterator[World]:
    url = server.url
    territory = (await Http(url)(f'{{ territory(slug: "{SLUG}") {{ id }} }}'))["territory"]["id"]
    adam = await log_in(url, f"adam@{SLUG}.example", territory)
    tag = uuid.uuid4().hex[:6]
    odile = await sign_up(url, f"odile-{tag}@example.org", "Odile", territory)
    alice = await sign_up(url, f"alice-{tag}@example.org", "Alice", territory)
    mona = await sign_up(url, f"mona-{tag}@example.org", "Mona", territory)
    bob = await sign_up(url, f"bob-{tag}@example.org", "Bob", territory)
    await adam.http(
        "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Mayor\"}) { userErrors { code } } }",
        {"m": odile.member_id},
    )
    await adam.http(
        "mutation($m: ID!) { setMemberRole(input: {memberId: $m, role: MODERATOR}) { userErrors { code } } }",
        {"m": mona.member_id},
    )
    yield World(url, territory, adam, odile, alice, mona, bob)


async def new_poll(world: World) -> dict[str, Any]:
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    created = (await world.odile.http(CREATE_POLL, {"i": {
        "territoryId": world.territory_id, "question": "Which bridge?", "options": ["Old", "New"],
        "closesAt": closes,
    }}))["createPoll"]
    assert created["userErrors"] == []
    return created["poll"]  # type: ignore[no-any-return]


async def vote(person: Person, poll: dict[str, Any], index: int = 0) -> None:
    voted = await person.http(VOTE, {"p": poll["id"], "o": [poll["options"][index]["id"]]})
    assert voted["castVote"]["userErrors"] == []


async def metric(url: str, name: str) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


class RawLive(Live):
    """A Live connection that also keeps the raw text of every frame."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self.raw: list[str | bytes] = []

    async def _recv(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109 - as Live._recv
        while True:
            frame = await asyncio.wait_for(self.conn.recv(), timeout)
            self.raw.append(frame)
            message = json.loads(frame)
            if message["type"] == "ping":
                await self.conn.send(json.dumps({"type": "pong"}))
                continue
            return message  # type: ignore[no-any-return]


async def crowd(world: World, size: int, people: list[Person | None]) -> list[RawLive]:
    """`size` connections, signed in as `people` in turn (None: anonymous)."""
    return [await RawLive.open(world.url, p.token if p else None) for p in (people * size)[:size]]


async def close_all(lives: list[RawLive]) -> None:
    await asyncio.gather(*(live.close() for live in lives))


async def test_a_crowd_of_phones_gets_the_same_tally_each_under_its_own_id(world: World) -> None:
    poll = await new_poll(world)
    # Given a dozen phones, anonymous and signed-in citizens, each with two subscriptions of the poll
    phones = await crowd(world, CROWD, [None, world.alice, world.bob])
    try:
        ops = [[await phone.subscribe(RESULTS, {"p": poll["id"]}) for _ in range(2)] for phone in phones]
        firsts = [await phone.next(op) for phone, pair in zip(phones, ops, strict=True) for op in pair]
        assert all(first == firsts[0] for first in firsts)
        assert firsts[0]["pollResults"]["totalVotes"] == 0
        # They share one execution
        assert await metric(world.url, "parvis_ws_shared_members") >= 2 * CROWD

        # When alice votes
        await vote(world.alice, poll, 1)

        # Then every subscription gets the new tally, the same for all
        tallies = [await phone.next(op) for phone, pair in zip(phones, ops, strict=True) for op in pair]
        assert all(t == tallies[0] for t in tallies)
        assert tallies[0]["pollResults"]["totalVotes"] == 1
        # (her choice waits, sealed, for a batch of K ballots: docs/adr/0009)
        assert [o["votes"] for o in tallies[0]["pollResults"]["options"]] == [0, 0]
        # And the frames are the same text but for the subscription's own id, as text frames
        frames = [phone.raw[-1] for phone in phones]
        assert all(isinstance(frame, str) for frame in frames)
        payloads = {frame.split(',"type":"next","payload":', 1)[1] for frame in frames}
        assert len(payloads) == 1
        for phone, pair in zip(phones, ops, strict=True):
            ids = [json.loads(frame)["id"] for frame in phone.raw[-2:]]
            assert sorted(ids) == sorted(pair)
    finally:
        await close_all(phones)


async def test_a_hidden_poll_still_reaches_staff_only(world: World) -> None:
    poll = await new_poll(world)
    phones = await crowd(world, 4, [None, world.alice])
    mona = await Live.open(world.url, world.mona.token)
    try:
        ops = [await phone.subscribe(RESULTS, {"p": poll["id"]}) for phone in phones]
        m = await mona.subscribe(RESULTS, {"p": poll["id"]})
        for phone, op in zip(phones, ops, strict=True):
            await phone.next(op)
        await mona.next(m)
        # When the poll is hidden by a moderator, then someone votes
        report = await world.alice.http(REPORT, {"i": {"subjectId": poll["id"], "reason": "Off charter."}})
        await world.mona.http(MODERATE, {"i": {"reportId": report["reportContent"]["report"]["id"], "action": "HIDE"}})
        await vote(world.mona, poll, 0)
        # Then mona (moderator) sees the tally, and nobody else does
        assert (await mona.next(m))["pollResults"]["totalVotes"] == 1
        for phone, op in zip(phones, ops, strict=True):
            await phone.silent(op, 0.4)
        # And a newcomer cannot subscribe to it at all
        async with await Live.open(world.url, world.bob.token) as bob:
            b = await bob.subscribe(RESULTS, {"p": poll["id"]})
            refused = await bob.message(b)
            assert refused["type"] in ("error", "next"), refused
            if refused["type"] == "next":
                assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            else:
                assert refused["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    finally:
        await close_all(phones)
        await mona.close()


async def test_a_member_who_completes_leaves_the_others_streaming(world: World) -> None:
    poll = await new_poll(world)
    phones = await crowd(world, 3, [world.alice, None])
    try:
        ops = [await phone.subscribe(RESULTS, {"p": poll["id"]}) for phone in phones]
        for phone, op in zip(phones, ops, strict=True):
            await phone.next(op)
        # When the first phone completes its subscription and the second hangs up
        await phones[0].conn.send(json.dumps({"id": ops[0], "type": "complete"}))
        await phones[1].close()
        await vote(world.bob, poll, 0)
        # Then the third still gets the new tally, and the first nothing more
        assert (await phones[2].next(ops[2]))["pollResults"]["totalVotes"] == 1
        await phones[0].silent(ops[0], 0.4)
        # And a late joiner gets the current tally at once
        late = await phones[0].subscribe(RESULTS, {"p": poll["id"]})
        assert (await phones[0].next(late))["pollResults"]["totalVotes"] == 1
    finally:
        await close_all(phones)


async def test_the_final_tally_reaches_everyone_then_complete(world: World) -> None:
    poll = await new_poll(world)
    phones = await crowd(world, 6, [None, world.alice, world.bob])
    try:
        ops = [await phone.subscribe(RESULTS, {"p": poll["id"]}) for phone in phones]
        for phone, op in zip(phones, ops, strict=True):
            await phone.next(op)
        await vote(world.alice, poll, 0)
        closed = await world.odile.http(CLOSE, {"p": poll["id"]})
        assert closed["closePoll"]["userErrors"] == []
        for phone, op in zip(phones, ops, strict=True):
            # (an intermediate tally may be coalesced away; the final one never is)
            data = await phone.next(op)
            if not data["pollResults"]["final"]:
                data = await phone.next(op)
            assert data["pollResults"]["final"] is True
            assert data["pollResults"]["totalVotes"] == 1
            assert data["pollResults"]["poll"]["status"] == "CLOSED"
            await phone.completes(op)
        # A subscriber after the end gets the final tally, then complete
        late = await phones[0].subscribe(RESULTS, {"p": poll["id"]})
        assert (await phones[0].next(late))["pollResults"]["final"] is True
        await phones[0].completes(late)
    finally:
        await close_all(phones)


async def test_viewer_dependent_fields_are_not_shared(world: World) -> None:
    poll = await new_poll(world)
    async with await Live.open(world.url, world.alice.token) as alice, \
            await Live.open(world.url, world.bob.token) as bob:
        a = await alice.subscribe(PERSONAL, {"p": poll["id"]})
        b = await bob.subscribe(PERSONAL, {"p": poll["id"]})
        assert (await alice.next(a))["pollResults"]["poll"]["viewerHasVoted"] is False
        await bob.next(b)
        await vote(world.alice, poll, 0)
        assert (await alice.next(a))["pollResults"] == {"totalVotes": 1, "poll": {"viewerHasVoted": True}}
        assert (await bob.next(b))["pollResults"] == {"totalVotes": 1, "poll": {"viewerHasVoted": False}}


HINTED = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes poll { viewerCanVote { allowed reason } } } }"


async def test_the_vote_hint_is_each_subscribers_own(world: World) -> None:
    """viewerCanVote is not in VIEWER_INDEPENDENT: each subscriber's frame is executed for them
    (listing it and Permission's fields there hands alice the anonymous group's answer)."""
    poll = await new_poll(world)
    async with await Live.open(world.url, world.alice.token) as alice, \
            await Live.open(world.url, world.bob.token) as bob, await Live.open(world.url, None) as nobody:
        a = await alice.subscribe(HINTED, {"p": poll["id"]})
        b = await bob.subscribe(HINTED, {"p": poll["id"]})
        n = await nobody.subscribe(HINTED, {"p": poll["id"]})
        for live, op in ((alice, a), (bob, b), (nobody, n)):
            await live.next(op)
        await vote(world.alice, poll, 0)
        allowed = {"allowed": True, "reason": None}
        assert (await alice.next(a))["pollResults"]["poll"]["viewerCanVote"] == {"allowed": False, "reason": "ALREADY_VOTED"}
        assert (await bob.next(b))["pollResults"]["poll"]["viewerCanVote"] == allowed
        assert (await nobody.next(n))["pollResults"]["poll"]["viewerCanVote"] == {
            "allowed": False, "reason": "UNAUTHENTICATED"
        }


async def test_replies_are_shared_too(world: World) -> None:
    phones = await crowd(world, 4, [None, world.alice])
    try:
        ops = [await phone.subscribe(REPLIES, {"t": world.territory_id}) for phone in phones]
        await asyncio.sleep(0.3)  # the territory hub listens
        asked = (await world.alice.http(ASK, {"i": {
            "territoryId": world.territory_id, "officialId": world.odile.member_id, "title": "Bins?",
            "body": "When?"}}))["askQuestion"]
        replied = (await world.odile.http(REPLY, {"i": {"questionId": asked["question"]["id"], "body": "Monday."}}))
        reply_id = replied["replyToQuestion"]["reply"]["id"]
        for phone, op in zip(phones, ops, strict=True):
            data = await phone.next(op)
            assert data["officialReplies"] == {"id": reply_id, "body": "Monday.", "official": {"title": "Mayor"}}
    finally:
        await close_all(phones)
