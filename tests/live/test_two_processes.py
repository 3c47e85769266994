"""Two server processes share one PostgreSQL database and one Redis: a phone connected to
one sees what people do through the other (run only with TEST_DATABASE_URL and
TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import Http, Live, citizens_in_postgres, log_in, prepare_database, sign_up

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL",
)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    db = new_database_url()
    prepare_database(db, "twin-agglo")
    redis_url = os.environ["TEST_REDIS_URL"]
    with ServerProcess(db, REDIS_URL=redis_url) as a, ServerProcess(db, REDIS_URL=redis_url) as b:
        yield a, b


async def test_a_subscriber_on_one_process_sees_mutations_made_on_the_other(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = servers
    territory = (await Http(b.url)('{ territory(slug: "twin-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(b.url, "adam@twin-agglo.example", territory)
    alice = await sign_up(b.url, "alice@twin.example", "Alice", territory)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await adam.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": territory, "question": "Tram or bus?", "options": ["Tram", "Bus"], "closesAt": closes}},
    ))["createPoll"]["poll"]

    async with await Live.open(a.url, alice.token) as live:
        results = await live.subscribe(
            "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes final } }", {"p": poll["id"]}
        )
        feed = await live.subscribe(
            "subscription($t: ID!) { feed(territoryId: $t) { node { ... on NewsPost { title } } } }",
            {"t": territory},
        )
        assert (await live.next(results))["pollResults"] == {"totalVotes": 0, "final": False}

        # Alice votes through process B; process A pushes the new tally
        voted = await alice.http(
            "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }",
            {"p": poll["id"], "o": [poll["options"][0]["id"]]},
        )
        assert voted["castVote"]["userErrors"] == []
        assert (await live.next(results))["pollResults"] == {"totalVotes": 1, "final": False}

        # Adam publishes news through B; A pushes it to the feed
        await adam.http(
            "mutation($i: PublishNewsInput!) { publishNews(input: $i) { newsPost { id } } }",
            {"i": {"territoryId": territory, "title": "Across processes", "body": "Hello."}},
        )
        assert (await live.next(feed))["feed"]["node"] == {"title": "Across processes"}

        await adam.http("mutation($p: ID!) { closePoll(input: {pollId: $p}) { poll { id } } }", {"p": poll["id"]})
        assert (await live.next(results))["pollResults"] == {"totalVotes": 1, "final": True}
        await live.completes(results)


REPLIES = "subscription($t: ID!) { officialReplies(territoryId: $t) { id body } }"
NOTIFICATIONS = "subscription { notifications { node { kind message } } }"
FEED = "subscription($t: ID!) { feed(territoryId: $t) { node { __typename ... on NewsPost { title } ... on Reply { id } } } }"
RESULTS = "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes final options { votes } } }"
VOTE = "mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) { userErrors { code } } }"


async def test_every_kind_of_event_made_on_b_reaches_subscribers_on_a(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = servers
    territory = (await Http(b.url)('{ territory(slug: "twin-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(b.url, "adam@twin-agglo.example", territory)
    odile = await sign_up(b.url, "odile@twin.example", "Odile", territory)
    bob = await sign_up(b.url, "bob@twin.example", "Bob", territory)
    await adam.http(
        "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Mayor\"}) { userErrors { code } } }",
        {"m": odile.member_id},
    )
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await odile.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": territory, "question": "Park?", "options": ["Yes", "No"], "closesAt": closes}},
    ))["createPoll"]["poll"]

    async with await Live.open(a.url, bob.token) as live:
        results = await live.subscribe(RESULTS, {"p": poll["id"]})
        replies = await live.subscribe(REPLIES, {"t": territory})
        feed = await live.subscribe(FEED, {"t": territory})
        inbox = await live.subscribe(NOTIFICATIONS)
        assert (await live.next(results))["pollResults"]["totalVotes"] == 0
        await asyncio.sleep(0.3)  # the other streams send nothing first: let them listen

        # Through B: bob votes, asks odile, odile replies (reply + feed item + bob's notification)
        await bob.http(VOTE, {"p": poll["id"], "o": [poll["options"][1]["id"]]})
        # (his choice waits, sealed, for a batch of the territory's K ballots: docs/adr/0009)
        moved = (await live.next(results))["pollResults"]
        assert (moved["totalVotes"], moved["options"]) == (1, [{"votes": 0}, {"votes": 0}])
        asked = (await bob.http(
            "mutation($i: AskQuestionInput!) { askQuestion(input: $i) { question { id } } }",
            {"i": {"territoryId": territory, "officialId": odile.member_id, "title": "Park hours?", "body": "?"}},
        ))["askQuestion"]["question"]["id"]
        reply = (await odile.http(
            "mutation($i: ReplyToQuestionInput!) { replyToQuestion(input: $i) { reply { id } } }",
            {"i": {"questionId": asked, "body": "Nine to five."}},
        ))["replyToQuestion"]["reply"]["id"]
        assert (await live.next(replies))["officialReplies"] == {"id": reply, "body": "Nine to five."}
        assert (await live.next(feed))["feed"]["node"] == {"__typename": "Reply", "id": reply}
        notice = (await live.next(inbox))["notifications"]["node"]
        assert notice["kind"] == "QUESTION_ANSWERED" and "Park hours?" in notice["message"]
        await live.silent(feed, 0.2)


async def test_a_burst_of_votes_on_both_processes_leaves_one_exact_tally_everywhere(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = servers
    territory = (await Http(a.url)('{ territory(slug: "twin-agglo") { id } }'))["territory"]["id"]
    adam = await log_in(a.url, "adam@twin-agglo.example", territory)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await adam.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": territory, "question": "Colour?", "options": ["Red", "Green", "Blue"],
               "closesAt": closes}},
    ))["createPoll"]["poll"]
    # 60 citizens (written straight into the database: 60 password hashes would take long);
    # half vote through A, half through B, all at once
    tokens = await citizens_in_postgres(a.database_url, "twin-agglo", VOTERS, "burst")
    voters = [Http((a if i % 2 else b).url, token, ip=f"10.60.0.{i}") for i, token in enumerate(tokens)]
    choices = [i % 3 for i in range(VOTERS)]
    expected = [choices.count(k) for k in range(3)]

    watchers = [await Live.open(url) for url in (a.url, a.url, b.url, b.url)]
    try:
        ops = [await w.subscribe(RESULTS, {"p": poll["id"]}) for w in watchers]
        for w, op in zip(watchers, ops):
            assert (await w.next(op))["pollResults"]["totalVotes"] == 0
        voted = await asyncio.gather(*(
            v(VOTE, {"p": poll["id"], "o": [poll["options"][k]["id"]]}) for v, k in zip(voters, choices)
        ))
        assert all(done["castVote"]["userErrors"] == [] for done in voted)
        # The ballots are counted in batches (docs/adr/0009): the close counts the last of them
        closed = await adam.http(
            "mutation($p: ID!) { closePoll(input: {pollId: $p}) { userErrors { code } } }", {"p": poll["id"]}
        )
        assert closed["closePoll"]["userErrors"] == []
        for w, op in zip(watchers, ops):
            last: dict[str, Any] = {}
            while not last.get("final"):
                last = (await w.next(op))["pollResults"]
            assert last["totalVotes"] == VOTERS
            assert [o["votes"] for o in last["options"]] == expected
            await w.completes(op)  # and nothing after the final state
    finally:
        for w in watchers:
            await w.close()
    # The database agrees
    stored = (await adam.http(
        "query($p: ID!) { node(id: $p) { ... on Poll { results { totalVotes options { votes } } } } }",
        {"p": poll["id"]},
    ))["node"]["results"]
    assert stored == {"totalVotes": VOTERS, "options": [{"votes": n} for n in expected]}


VOTERS = 60


@pytest.fixture(scope="module")
def two_workers() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, "workers-agglo")
    with ServerProcess(db, "--workers", "2", REDIS_URL=os.environ["TEST_REDIS_URL"]) as server:
        yield server


async def test_serve_with_two_workers_answers_queries_and_subscriptions(two_workers: ServerProcess) -> None:
    url = two_workers.url
    territory = (await Http(url)('{ territory(slug: "workers-agglo") { id name } }'))["territory"]
    assert territory["name"] == "Live Agglo"
    adam = await log_in(url, "adam@workers-agglo.example", territory["id"])
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    poll = (await adam.http(
        "mutation($i: CreatePollInput!) { createPoll(input: $i) { poll { id options { id } } } }",
        {"i": {"territoryId": territory["id"], "question": "Q?", "options": ["A", "B"], "closesAt": closes}},
    ))["createPoll"]["poll"]
    # Several sockets, spread over both workers by the kernel; the vote lands on either
    watchers = [await Live.open(url) for _ in range(4)]
    try:
        ops = [await w.subscribe(RESULTS, {"p": poll["id"]}) for w in watchers]
        for w, op in zip(watchers, ops):
            assert (await w.next(op))["pollResults"]["totalVotes"] == 0
        await adam.http(VOTE, {"p": poll["id"], "o": [poll["options"][0]["id"]]})
        for w, op in zip(watchers, ops):
            assert (await w.next(op))["pollResults"]["totalVotes"] == 1
    finally:
        for w in watchers:
            await w.close()
