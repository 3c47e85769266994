"""The anonymous response cache (docs/adr/0006): answers are reused only while nothing they
read has changed, by a write here or in another process, or by the clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

import httpx

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.responses import ResponseCache
from app.settings import Settings
from models.accounts import Role
from models.polls import Poll as PollRow
from models.polls import PollOption as PollOptionRow
from server import build_app
from sharing.stamp import LOCAL, DataStamp
from tests.factories import make_person, make_territory
from tests.news.stories import comment, comments_of, moderate, publish, report
from tests.polls.stories import TERRITORY_POLLS, created, option_ids, town, voted
from tests.questions.stories import asked

TALLY = """query Tally($slug: String!) { territory(slug: $slug) { polls(first: 10, status: OPEN) {
  edges { node { id status results { totalVotes options { votes } } } } } } }"""


def cache_of(app: Any) -> ResponseCache:
    cache = app.state.graphql.response_cache
    assert cache is not None
    return cache  # type: ignore[no-any-return]


async def anonymous(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def warm(http: httpx.AsyncClient, cache: ResponseCache, query: str, variables: dict[str, Any]) -> Any:
    """Ask until the answer comes from the cache; returns it."""
    for _ in range(50):
        hits = cache.hits
        body = await anonymous(http, query, variables)
        if cache.hits > hits:
            return body
        await asyncio.sleep(0.01)
    raise AssertionError("the answer never came from the cache")


async def poll_closing_soon(t: Any) -> PollRow:
    """An open poll of town `t` whose closesAt is 1.5 s away (written directly: no mutation
    creates one that close)."""
    now = dt.datetime.now(dt.UTC)
    row = await PollRow.create(territory_id=t.territory.id, created_by_id=t.odile.member.id,
                               question="Now or never?", opens_at=now - dt.timedelta(hours=1),
                               closes_at=now + dt.timedelta(seconds=1.5))
    for position, label in enumerate(("Now", "Never")):
        await PollOptionRow.create(poll_id=row.id, position=position, label=label)
    return row


async def test_a_vote_invalidates_the_tally(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    # Given an open poll whose tally anonymous visitors read from the cache
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    cache = cache_of(app)
    before = await warm(http, cache, TALLY, {"slug": t.territory.slug})
    assert before["data"]["territory"]["polls"]["edges"][0]["node"]["results"]["totalVotes"] == 0

    # When alice votes
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])

    # Then the very next anonymous read shows her ballot
    after = await anonymous(http, TALLY, {"slug": t.territory.slug})
    results = after["data"]["territory"]["polls"]["edges"][0]["node"]["results"]
    assert results["totalVotes"] == 1
    assert [o["votes"] for o in results["options"]] == [1, 0, 0]


QUESTIONS = """query Questions($slug: String!) { territory(slug: $slug) { questions(first: 10) {
  totalCount edges { node { id title status } } } } }"""


async def test_a_vote_leaves_the_questions_cached(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    # Given the questions and the tally of a town, both read from the cache
    t = await town()
    await asked(gql, t.alice.token, t.territory)
    poll = await created(gql, t.odile.token, t.gid)
    cache = cache_of(app)
    await warm(http, cache, QUESTIONS, {"slug": t.territory.slug})
    await warm(http, cache, TALLY, {"slug": t.territory.slug})

    # When bob votes (a write to the polls' tables only)
    await voted(gql, t.bob.token, poll["id"], option_ids(poll)[0])

    # Then the questions still come from the cache, and the tally is computed again
    hits, misses = cache.hits, cache.misses
    await anonymous(http, QUESTIONS, {"slug": t.territory.slug})
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    tally = await anonymous(http, TALLY, {"slug": t.territory.slug})
    assert cache.misses == misses + 1
    assert tally["data"]["territory"]["polls"]["edges"][0]["node"]["results"]["totalVotes"] == 1


async def test_hiding_a_comment_removes_it_at_once(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    # Given bob's rude comment, read by anonymous visitors from the cache
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    bob = await make_person("bob", territory)
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, Role.MODERATOR)
    post = await publish(gql, odile.token, territory)
    rude = await comment(gql, bob.token, post["id"], "You are all crooks.")
    from tests.news.stories import COMMENTS_OF

    cache = cache_of(app)
    seen = await warm(http, cache, COMMENTS_OF, {"id": post["id"]})
    assert [e["node"]["id"] for e in seen["data"]["node"]["comments"]["edges"]] == [rude["id"]]

    # When mona hides it
    filed = await report(gql, alice.token, rude["id"], "Insults.")
    await moderate(gql, mona.token, filed["id"], "HIDE", "Rule 3.")

    # Then no anonymous reader gets it again
    page = await comments_of(gql, post["id"])
    assert page["edges"] == [] and page["totalCount"] == 0


async def test_a_poll_reads_closed_once_closes_at_passes_without_any_write(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given a poll closing in a moment, read by anonymous visitors from the cache
    t = await town()
    row = await poll_closing_soon(t)
    cache = cache_of(app)
    variables = {"slug": t.territory.slug, "status": None}
    open_page = await warm(http, cache, TERRITORY_POLLS, variables)
    assert open_page["data"]["territory"]["polls"]["edges"][0]["node"]["status"] == "OPEN"
    by_status = await warm(http, cache, TALLY, {"slug": t.territory.slug})
    assert len(by_status["data"]["territory"]["polls"]["edges"]) == 1

    # When closesAt passes and nobody writes anything
    writes = LOCAL.moves
    await asyncio.sleep(max(0.0, (row.closes_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)

    # Then it reads CLOSED, and it left the list of open polls
    page = await anonymous(http, TERRITORY_POLLS, variables)
    node = page["data"]["territory"]["polls"]["edges"][0]["node"]
    assert node["status"] == "CLOSED" and node["results"]["final"] is True
    assert (await anonymous(http, TALLY, {"slug": t.territory.slug}))["data"]["territory"]["polls"]["edges"] == []
    assert LOCAL.moves == writes


async def test_a_scheduled_poll_shows_up_among_open_polls_when_it_opens(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    # Given a poll opening in a moment: not among the open polls (it was not even returned)
    t = await town()
    now = dt.datetime.now(dt.UTC)
    row = await PollRow.create(territory_id=t.territory.id, created_by_id=t.odile.member.id,  # type: ignore[union-attr]
                               question="Soon?", opens_at=now + dt.timedelta(seconds=1.5),
                               closes_at=now + dt.timedelta(days=1))
    cache = cache_of(app)
    empty = await warm(http, cache, TALLY, {"slug": t.territory.slug})
    assert empty["data"]["territory"]["polls"]["edges"] == []

    # When opensAt passes
    await asyncio.sleep(max(0.0, (row.opens_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)

    # Then it is listed
    page = await anonymous(http, TALLY, {"slug": t.territory.slug})
    assert [e["node"]["status"] for e in page["data"]["territory"]["polls"]["edges"]] == ["OPEN"]


async def test_two_instances_sharing_a_broker_invalidate_each_other(gql: Any, settings: Settings, app: Any) -> None:
    # Given a second instance that, like another process, does not see this process's writes
    # and learns of them only through the broker (Redis with TEST_REDIS_URL, else the
    # in-process broker of the first instance)
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    other = build_app(settings, manage_database=False, limiter=unlimited)
    redis = bool(os.environ.get("TEST_REDIS_URL"))
    broker = other.state.broker if redis else app.state.broker
    other.state.graphql.response_cache = ResponseCache(DataStamp(broker, watch_local_writes=False))
    cache = cache_of(other)
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as http:
            before = await warm(http, cache, TALLY, {"slug": t.territory.slug})
            assert before["data"]["territory"]["polls"]["edges"][0]["node"]["results"]["totalVotes"] == 0

            # When alice votes through the first instance
            await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])

            # Then the second instance drops its answer as soon as the "changed" event arrives
            for _ in range(200):
                after = await anonymous(http, TALLY, {"slug": t.territory.slug})
                total = after["data"]["territory"]["polls"]["edges"][0]["node"]["results"]["totalVotes"]
                if total == 1:
                    break
                await asyncio.sleep(0.01)
            assert total == 1
    finally:
        await cache.stamp.close()
        if redis:
            await other.state.broker.close()


async def test_answers_with_errors_are_not_cached(http: httpx.AsyncClient, app: Any) -> None:
    territory = await make_territory()
    cache = cache_of(app)
    members = "query($s: String!) { territory(slug: $s) { members { totalCount } } }"
    await warm(http, cache, "query($s: String!) { territory(slug: $s) { name } }", {"s": territory.slug})
    stored = cache.stored
    for _ in range(3):
        body = await anonymous(http, members, {"s": territory.slug})
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert cache.stored == stored


async def test_an_authenticated_request_never_reads_or_fills_the_cache(
    http: httpx.AsyncClient, app: Any
) -> None:
    territory = await make_territory()
    alice = await make_person("alice", territory)
    cache = cache_of(app)
    query = "query($s: String!) { territory(slug: $s) { name } viewer { displayName } }"
    cached = await warm(http, cache, query, {"s": territory.slug})
    assert cached["data"]["viewer"] is None
    hits, stored = cache.hits, cache.stored

    for _ in range(3):
        response = await http.post("/graphql", json={"query": query, "variables": {"s": territory.slug}},
                                   headers={"Authorization": f"Bearer {alice.token}"})
        assert response.json()["data"]["viewer"] == {"displayName": "Alice"}
    assert (cache.hits, cache.stored) == (hits, stored)
