"""Two server processes share one PostgreSQL database and one Redis: a phone connected to
one sees what people do through the other (run only with TEST_DATABASE_URL and
TEST_REDIS_URL)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest

from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import Http, Live, log_in, prepare_database, sign_up

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
