"""Shared parts for signed-in readers (sharing/parts.py, docs/adr/0007): the public part
of a hot list is reused across viewers, never a personal field, never after a write or past a
time boundary, and hidden content only for staff."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from models.ideas import Idea as IdeaRow
from models.territories import Territory as TerritoryRow
from sharing.parts import SharedParts
from sharing.stamp import LOCAL
from tests.cache.test_response_cache import poll_closing_soon
from tests.ideas.stories import proposed, support
from tests.polls.stories import created, option_ids, pk_of, town, voted

HOME = """query Home($slug: String!) { territory(slug: $slug) {
  polls(first: 10, status: OPEN) { edges { node { id status viewerHasVoted
    results { totalVotes final options { votes } } } } }
  ideas(first: 10, orderBy: MOST_SUPPORTED) { edges { node { id title supportCount viewerSupports
    author { displayName } } } }
} }"""


def pages_of(app: Any) -> SharedParts:
    parts = app.state.graphql.parts
    assert parts is not None
    return parts  # type: ignore[no-any-return]


async def home(http: httpx.AsyncClient, token: str, slug: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": HOME, "variables": {"slug": slug}},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["territory"]  # type: ignore[no-any-return]


async def shared(http: httpx.AsyncClient, pages: SharedParts, token: str, slug: str) -> dict[str, Any]:
    """Read the home page until everything shared comes from the cache (nothing rebuilt);
    returns that read."""
    for _ in range(50):
        hits, misses = pages.hits, pages.misses
        found = await home(http, token, slug)
        if pages.misses == misses and pages.hits > hits:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("the lists never came from the shared pages")


def polls(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page["polls"]["edges"]]


def ideas(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page["ideas"]["edges"]]


async def test_viewers_share_the_lists_but_each_sees_their_own_vote_and_support(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given a poll alice voted in and an idea she supports
    t = await town()
    slug = t.territory.slug
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    idea = await proposed(gql, t.vera.token, t.territory)
    assert not (await support(gql, t.alice.token, idea["id"])).get("errors")
    pages = pages_of(app)

    # When alice and then bob read the home page, bob from the pages alice's read filled
    seen_by_alice = await shared(http, pages, t.alice.token, slug)
    hits, misses = pages.hits, pages.misses
    seen_by_bob = await home(http, t.bob.token, slug)
    assert pages.misses == misses and pages.hits == hits + 3  # the territory, polls and ideas

    # Then both see the same tally and support count, each with their own personal fields
    assert polls(seen_by_alice)[0]["results"]["totalVotes"] == polls(seen_by_bob)[0]["results"]["totalVotes"] == 1
    assert polls(seen_by_alice)[0]["viewerHasVoted"] is True
    assert polls(seen_by_bob)[0]["viewerHasVoted"] is False
    assert ideas(seen_by_alice)[0]["supportCount"] == ideas(seen_by_bob)[0]["supportCount"] == 1
    assert ideas(seen_by_alice)[0]["viewerSupports"] is True
    assert ideas(seen_by_bob)[0]["viewerSupports"] is False
    # And alice, reading again from the shared pages, still sees hers
    again = await home(http, t.alice.token, slug)
    assert polls(again)[0]["viewerHasVoted"] is True and ideas(again)[0]["viewerSupports"] is True


async def test_a_vote_shows_at_once_to_every_signed_in_reader(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given bob reading a tally from the shared pages
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    before = await shared(http, pages_of(app), t.bob.token, t.territory.slug)
    assert polls(before)[0]["results"]["totalVotes"] == 0

    # When alice votes
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[1])

    # Then bob's very next read shows her ballot
    after = polls(await home(http, t.bob.token, t.territory.slug))[0]
    assert after["results"]["totalVotes"] == 1
    assert [o["votes"] for o in after["results"]["options"]] == [0, 1, 0]


async def test_a_hidden_idea_leaves_citizens_pages_at_once_and_staff_still_see_it(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given an idea read by bob and by mona the moderator from the shared pages
    t = await town()
    idea = await proposed(gql, t.vera.token, t.territory, title="Rude words")
    pages = pages_of(app)
    assert [i["title"] for i in ideas(await shared(http, pages, t.bob.token, t.territory.slug))] == ["Rude words"]
    assert len(ideas(await shared(http, pages, t.mona.token, t.territory.slug))) == 1

    # When it is hidden (any write, whoever makes it)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)

    # Then bob no longer sees it, and mona still does
    assert ideas(await home(http, t.bob.token, t.territory.slug)) == []
    assert [i["title"] for i in ideas(await home(http, t.mona.token, t.territory.slug))] == ["Rude words"]


async def test_a_poll_closes_on_time_for_signed_in_readers_without_any_write(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given a poll closing in a moment, among the open polls of bob's shared pages
    t = await town()
    row = await poll_closing_soon(t)
    page = await shared(http, pages_of(app), t.bob.token, t.territory.slug)
    assert [p["status"] for p in polls(page)] == ["OPEN"]

    # When closesAt passes and nobody writes anything
    writes = LOCAL.moves
    await asyncio.sleep(max(0.0, (row.closes_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)

    # Then it has left the open polls
    assert polls(await home(http, t.bob.token, t.territory.slug)) == []
    assert LOCAL.moves == writes


async def test_concurrent_readers_never_see_each_others_personal_fields(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given a poll and an idea alice voted in and supports, and bob did not
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    idea = await proposed(gql, t.vera.token, t.territory)
    assert not (await support(gql, t.alice.token, idea["id"])).get("errors")
    await shared(http, pages_of(app), t.alice.token, t.territory.slug)

    # When both read the home page at the same time, many times over
    readers = [t.alice, t.bob] * 15
    pages = await asyncio.gather(*(home(http, who.token, t.territory.slug) for who in readers))

    # Then each read carries its own reader's vote and support
    for who, page in zip(readers, pages, strict=True):
        mine = who is t.alice
        assert polls(page)[0]["viewerHasVoted"] is mine
        assert ideas(page)[0]["viewerSupports"] is mine


async def test_a_renamed_territory_shows_its_new_name_at_once(http: httpx.AsyncClient, app: Any) -> None:
    # Given bob reading his territory's name from the shared values
    t = await town()
    query = "query($s: String!) { territory(slug: $s) { name } }"

    async def name() -> str:
        response = await http.post("/graphql", json={"query": query, "variables": {"s": t.territory.slug}},
                                   headers={"Authorization": f"Bearer {t.bob.token}"})
        return response.json()["data"]["territory"]["name"]  # type: ignore[no-any-return]

    pages = pages_of(app)
    assert await name() == "Carcassonne Agglo"
    for _ in range(50):  # (the stamp starts listening on first use: shared from then on)
        hits = pages.hits
        assert await name() == "Carcassonne Agglo"
        if pages.hits == hits + 1:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the name never came from the shared values")

    # When it is renamed
    await TerritoryRow.filter(id=t.territory.id).update(name="Grand Carcassonne")

    # Then the next read has the new name
    assert await name() == "Grand Carcassonne"
