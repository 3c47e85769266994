"""An attacker's view of the answers shared between readers (docs/adr/0024): readers who
arrive together on a cold page wait for one computation (sharing/flights.py), a stored part's
objects are completed once (schema/execution.py), the viewer's copies reuse the rest. None of
it may hand one reader another's own fields, a moderator's view to a citizen, or an answer
from before a write to someone who arrived after it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from models.ideas import Idea as IdeaRow
from tests.cache.test_completed_once import MIDDLE, nodes
from tests.ideas.stories import proposed, support
from tests.polls.stories import created, option_ids, pk_of, town, voted

ANONYMOUS_IDEAS = "query A($slug: String!) { territory(slug: $slug) { ideas(first: 10) { edges { node { title } } } } }"


async def post(http: httpx.AsyncClient, query: str, slug: str, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": {"slug": slug}}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["territory"]  # type: ignore[no-any-return]


async def test_readers_arriving_together_each_get_their_own_view(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    # Given alice who voted and supports, bob who did neither, mona the moderator, and an idea
    # hidden by the moderation (staff still see it)
    t = await town()
    slug = t.territory.slug
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    shown = await proposed(gql, t.vera.token, t.territory, title="Shown")
    assert not (await support(gql, t.alice.token, shown["id"])).get("errors")
    hidden = await proposed(gql, t.vera.token, t.territory, title="Hidden")

    parts = app.state.graphql.parts
    joined = parts.joined
    for round_no in range(3):
        await IdeaRow.filter(id=pk_of(hidden["id"], "Idea")).update(hidden=True)  # a write: every cache is cold
        readers = [(who, token) for _ in range(4)
                   for who, token in (("alice", t.alice.token), ("bob", t.bob.token), ("mona", t.mona.token),
                                      ("anonymous", None))]
        # When they all read the page at once
        answers = await asyncio.gather(*(
            post(http, MIDDLE if token else ANONYMOUS_IDEAS, slug, token) for _, token in readers
        ))

        # Then each sees their own marks, and only staff see the hidden idea
        for (who, _), answer in zip(readers, answers, strict=True):
            titles = [i["title"] for i in nodes(answer, "ideas")]
            assert ("Hidden" in titles) is (who == "mona"), (round_no, who, titles)
            if who == "anonymous":
                continue
            mine = who == "alice"
            assert nodes(answer, "polls")[0]["viewerHasVoted"] is mine, (round_no, who)
            assert [i["viewerSupports"] for i in nodes(answer, "ideas") if i["title"] == "Shown"] == [mine]

    assert parts.joined > joined  # (the readers did wait for each other's builds)

    # And a vote by bob shows at once: in his own next read and in every reader's tally
    await voted(gql, t.bob.token, poll["id"], option_ids(poll)[1])
    answers = await asyncio.gather(*(post(http, MIDDLE, slug, token)
                                     for token in (t.bob.token, t.mona.token, t.alice.token) * 3))
    for index, answer in enumerate(answers):
        first = nodes(answer, "polls")[0]
        assert first["results"]["totalVotes"] == 2
        assert first["viewerHasVoted"] is (index % 3 != 1)  # bob and alice voted, mona did not
