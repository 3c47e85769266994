"""Territory.feed: newest first, every kind of item, stable cursors, one query per kind."""

from __future__ import annotations

from typing import Any

from models.accounts import Role
from models.news import NewsPost
from models.questions import Question
from tests.factories import make_person, make_territory
from tests.news.stories import (
    add_to_feed,
    feed_of,
    gid,
    make_idea,
    make_poll,
    make_project,
    make_question,
    make_reply,
    pk_of,
    publish,
)
from tests.test_query_count import count_queries


async def test_the_feed_shows_every_kind_newest_first(gql: Any) -> None:
    # Given a territory where a project, a poll, a reply, a realized idea and a post were published
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    project = await make_project(territory, odile.member)  # type: ignore[arg-type]
    await add_to_feed(territory, "Project", project.id)
    poll = await make_poll(territory, odile.member)  # type: ignore[arg-type]
    await add_to_feed(territory, "Poll", poll.id)
    question = await make_question(territory, alice.member)  # type: ignore[arg-type]
    reply = await make_reply(question, odile.member)  # type: ignore[arg-type]
    await add_to_feed(territory, "Reply", reply.id)
    idea = await make_idea(territory, alice.member)  # type: ignore[arg-type]
    await add_to_feed(territory, "Idea", idea.id)
    post = await publish(gql, odile.token, territory, title="Summer works")
    # And another territory's news, which stays there
    elsewhere = await make_territory()
    await publish(gql, (await make_person("otto", elsewhere, Role.OFFICIAL)).token, elsewhere)

    feed = await feed_of(gql, territory)

    assert [e["node"] for e in feed["edges"]] == [
        {"__typename": "NewsPost", "id": post["id"], "title": "Summer works"},
        {"__typename": "Idea", "id": gid("Idea", idea.id), "title": "A cycle lane"},
        {"__typename": "Reply", "id": gid("Reply", reply.id), "body": "From June on."},
        {"__typename": "Poll", "id": gid("Poll", poll.id), "question": "Which name?"},
        {"__typename": "Project", "id": gid("Project", project.id), "title": "New library"},
    ]
    assert feed["totalCount"] == 5
    assert feed["pageInfo"]["hasNextPage"] is False


async def test_publishing_while_paging_neither_repeats_nor_skips(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    posts = [(await publish(gql, odile.token, territory, title=f"Post {i}"))["id"] for i in range(5)]
    newest_first = list(reversed(posts))

    page = await feed_of(gql, territory, first=2)
    assert [e["node"]["id"] for e in page["edges"]] == newest_first[:2]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]

    # odile publishes while alice reads on
    fresh = (await publish(gql, odile.token, territory, title="Breaking"))["id"]

    rest = await feed_of(gql, territory, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == newest_first[2:4]
    last = await feed_of(gql, territory, first=2, after=rest["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in last["edges"]] == newest_first[4:]
    assert last["pageInfo"]["hasNextPage"] is False
    # The new post is before the first page: what came in since the first cursor
    since = await feed_of(gql, territory, last=10, before=page["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in since["edges"]] == [fresh]
    top = await feed_of(gql, territory, first=1)
    assert top["edges"][0]["node"]["id"] == fresh
    # And a cursor names the same entry whoever asks
    again = await feed_of(gql, territory, first=3)
    assert [e["cursor"] for e in again["edges"][1:]] == [e["cursor"] for e in page["edges"]]


async def test_items_hidden_or_gone_are_left_out_but_paging_goes_on(gql: Any) -> None:
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    kept = await publish(gql, odile.token, territory, title="Kept")
    hidden = await publish(gql, odile.token, territory, title="Hidden")
    question = await make_question(territory, alice.member)  # type: ignore[arg-type]
    reply = await make_reply(question, odile.member)  # type: ignore[arg-type]
    await add_to_feed(territory, "Reply", reply.id)
    await add_to_feed(territory, "NewsPost", 2**31 - 1)  # gone
    # A subject hidden on its own row, and a reply whose question was hidden
    await NewsPost.filter(id=pk_of(hidden["id"])).update(hidden=True)
    await Question.filter(id=question.id).update(hidden=True)

    for token in (None, alice.token):
        feed = await feed_of(gql, territory, token)
        assert [e["node"]["id"] for e in feed["edges"]] == [kept["id"]]
    page = await feed_of(gql, territory, first=2)
    assert page["edges"] == []
    assert page["pageInfo"]["hasNextPage"] is True  # the skipped entries still move the cursor
    rest = await feed_of(gql, territory, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [kept["id"]]


async def test_a_feed_page_costs_the_same_queries_for_3_or_30_items(gql: Any) -> None:
    async def measure(n: int) -> int:
        territory = await make_territory()
        odile = await make_person("odile", territory, Role.OFFICIAL)
        alice = await make_person("alice", territory)
        assert odile.member is not None and alice.member is not None
        for _ in range(n):
            await add_to_feed(territory, "Idea", (await make_idea(territory, alice.member)).id)
            await add_to_feed(territory, "Poll", (await make_poll(territory, odile.member)).id)
            reply = await make_reply(await make_question(territory, alice.member), odile.member)
            await add_to_feed(territory, "Reply", reply.id)
        await publish(gql, odile.token, territory)
        with count_queries() as counter:
            feed = await feed_of(gql, territory, first=100)
        assert len(feed["edges"]) == 3 * n + 1
        return len(counter.queries)

    small, large = await measure(1), await measure(10)
    assert small == large and small > 0
