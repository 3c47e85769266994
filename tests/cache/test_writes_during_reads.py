"""Writes that arrive while pages are being read (issue 12): the anonymous response cache and
the signed-in shared pages never keep an answer older than a write committed before the read
began: no stale tally, no hidden item served, no viewer's field served to another.

A read that started before a write but stored its answer after the write would poison the
cache for every later reader; these tests read continuously while votes, supports and a
moderation decision go through, and check every read against what was committed before it
began, then the reads after the last write against the final state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from models.accounts import Role
from tests.cache.test_page_cache import HOME, home, ideas, polls
from tests.factories import make_person
from tests.ideas.stories import proposed, support
from tests.news.stories import moderate, report
from tests.polls.stories import created, option_ids, town, voted

VOTERS = 12
ANONYMOUS_HOME = HOME.replace(" viewerHasVoted", "").replace(" viewerSupports", "")


@dataclass
class Committed:
    """What the writer has committed so far (set right after each write returned)."""

    votes: int = 0
    supports: int = 0
    hidden: bool = False
    reads: list[tuple[int, int, bool, dict[str, Any]]] = field(default_factory=list)


async def anonymous_home(http: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": ANONYMOUS_HOME, "variables": {"slug": slug}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["territory"]  # type: ignore[no-any-return]


def check(page: dict[str, Any], votes: int, supports: int, hidden: bool, hidden_id: str, idea_id: str) -> None:
    """A page read after `votes` votes, `supports` supports (and the hiding, if `hidden`) were
    committed shows at least them."""
    [poll] = polls(page)
    assert poll["results"]["totalVotes"] >= votes, (poll["results"], votes)
    listed = {i["id"]: i for i in ideas(page)}
    assert listed[idea_id]["supportCount"] >= supports, (listed[idea_id], supports)
    if hidden:
        assert hidden_id not in listed


async def test_reads_racing_votes_supports_and_a_hiding_never_go_back_in_time(gql: Any, http: Any) -> None:
    # Given a town with an open poll, an idea to support and one to be hidden; alice voted first
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    first = option_ids(poll)[0]
    await voted(gql, t.alice.token, poll["id"], first)
    idea = await proposed(gql, t.vera.token, t.territory, title="Shaded benches")
    doomed = await proposed(gql, t.bob.token, t.territory, title="Insulting title")
    crowd = [await make_person(f"voter{n}", t.territory, Role.CITIZEN) for n in range(VOTERS)]
    done = Committed(votes=1)
    slug = t.territory.slug

    async def write() -> None:
        for person in crowd:
            await voted(gql, person.token, poll["id"], first)
            done.votes += 1
            assert not (await support(gql, person.token, idea["id"])).get("errors")
            done.supports += 1
            if done.votes == VOTERS // 2:
                reported = await report(gql, t.alice.token, doomed["id"])
                await moderate(gql, t.mona.token, reported["id"], "HIDE")
                done.hidden = True

    async def read(who: Any, until: asyncio.Task[None]) -> None:
        while not until.done():
            votes, supports, hidden = done.votes, done.supports, done.hidden
            page = await (anonymous_home(http, slug) if who is None else home(http, who.token, slug))
            check(page, votes, supports, hidden, doomed["id"], idea["id"])
            if who is not None:
                # each signed-in reader gets their own fields, whatever the cache served
                [mine] = polls(page)
                assert mine["viewerHasVoted"] is (who is t.alice), (who, mine)
                assert {i["id"]: i for i in ideas(page)}[idea["id"]]["viewerSupports"] is False
            done.reads.append((votes, supports, hidden, page))
            await asyncio.sleep(0)

    # When readers (anonymous, alice who voted, bob who did not) read all the while the writes go through
    writer = asyncio.create_task(write())
    await asyncio.gather(read(None, writer), read(t.alice, writer), read(t.bob, writer), writer)

    # Then no read showed less than what was committed before it began (checked as they went),
    # the race really happened (reads saw the writes at different stages),
    stages = {(votes, hidden) for votes, _, hidden, _ in done.reads}
    assert len(done.reads) >= 20 and len(stages) >= 4, (len(done.reads), stages)
    # and every read after the last write shows the final state, from whatever cache serves it
    for page in (await anonymous_home(http, slug), await home(http, t.alice.token, slug),
                 await home(http, t.bob.token, slug), await anonymous_home(http, slug)):
        [final] = polls(page)
        assert final["results"]["totalVotes"] == VOTERS + 1
        listed = {i["id"]: i for i in ideas(page)}
        assert listed[idea["id"]]["supportCount"] == VOTERS
        assert doomed["id"] not in listed
