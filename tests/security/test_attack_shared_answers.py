"""Attacks on the shared answers (docs/adr/0024): memoized completion of stored parts, viewer
overlays, flights, and the memberships read with the token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from models.ideas import Idea as IdeaRow
from tests.ideas.stories import proposed, support
from tests.polls.stories import created, option_ids, pk_of, town, voted


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None,
               **headers: str) -> dict[str, Any]:
    h = dict(headers)
    if token:
        h["Authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=h)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


SELF_DEMOTE_THEN_VERIFY = """mutation($me: ID!, $other: ID!) {
  setMemberRole(input: {memberId: $me, role: CITIZEN}) { member { role } userErrors { code } }
  verifyMember(input: {memberId: $other}) { member { verified } userErrors { code } }
}"""


async def test_self_demotion_then_staff_action_in_same_request(gql: Any, http: httpx.AsyncClient) -> None:
    """DEFECT (fails): the memberships read with the token (access/tokens.viewer_for_token,
    Context.memberships) are never dropped after setMemberRole, so Context.membership still
    answers ADMIN and the now-citizen verifies a member. With the loader path (memberships None)
    this passes: a regression of the token statement reading the memberships."""
    # adam (admin) makes bob an admin, so adam may step down
    t = await town()
    promoted = await post(http, "mutation($m: ID!) { setMemberRole(input: {memberId: $m, role: ADMIN}) "
                          "{ userErrors { code } } }", {"m": t.bob.member_gid}, t.adam.token)
    assert promoted["data"]["setMemberRole"]["userErrors"] == [], promoted
    # adam demotes himself to citizen, then, in the same request, verifies alice (staff only)
    body = await post(http, SELF_DEMOTE_THEN_VERIFY, {"me": t.adam.member_gid, "other": t.alice.member_gid},
                      t.adam.token)
    assert (body.get("data") or {}).get("setMemberRole") is None or \
        body["data"]["setMemberRole"]["member"]["role"] == "CITIZEN", body
    # A citizen may not verify: the second field must be refused (FORBIDDEN)
    errors = [e for e in body.get("errors") or [] if e.get("path") == ["verifyMember"]]
    assert errors and errors[0]["extensions"]["code"] == "FORBIDDEN", body
    # (data is then null: verifyMember's payload is non-null)


SELF_DEMOTE_THEN_READ = """mutation($me: ID!) {
  setMemberRole(input: {memberId: $me, role: CITIZEN}) {
    member { role territory { ideas(first: 20) { edges { node { title hidden } } } } }
    userErrors { code }
  }
}"""


async def test_self_demotion_payload_does_not_show_hidden_items(gql: Any, http: httpx.AsyncClient) -> None:
    """DEFECT (fails): the payload, read after the demotion committed, is given the STAFF shared
    part of the ideas (Context.audience -> is_staff -> stale Context.memberships): a citizen
    sees a hidden idea. Passes with memberships read by the loader instead."""
    t = await town()
    promoted = await post(http, "mutation($m: ID!) { setMemberRole(input: {memberId: $m, role: ADMIN}) "
                          "{ userErrors { code } } }", {"m": t.bob.member_gid}, t.adam.token)
    assert promoted["data"]["setMemberRole"]["userErrors"] == [], promoted
    hidden = await proposed(gql, t.vera.token, t.territory, title="Hidden one")
    await IdeaRow.filter(id=pk_of(hidden["id"], "Idea")).update(hidden=True)
    body = await post(http, SELF_DEMOTE_THEN_READ, {"me": t.adam.member_gid}, t.adam.token)
    member = body["data"]["setMemberRole"]["member"]
    assert member["role"] == "CITIZEN", body
    titles = [e["node"]["title"] for e in member["territory"]["ideas"]["edges"]]
    # The payload is read after the write: adam is a citizen now, he must not see the hidden idea
    assert "Hidden one" not in titles, titles


LEAVE_THEN_VERIFY = """mutation($t: ID!, $other: ID!) {
  leaveTerritory(input: {territoryId: $t})
  verifyMember(input: {memberId: $other}) { member { verified } userErrors { code } }
}"""


async def test_leave_then_staff_action_refused(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    body = await post(http, LEAVE_THEN_VERIFY, {"t": t.gid, "other": t.alice.member_gid}, t.mona.token)
    # verifyMember is refused (FORBIDDEN: non-null payload, so data is null as a whole)
    errors = [e for e in body.get("errors") or [] if e.get("path") == ["verifyMember"]]
    assert errors and errors[0]["extensions"]["code"] == "FORBIDDEN", body
    assert not (body.get("data") or {}).get("verifyMember"), body


FEED = """query F($slug: String!) { territory(slug: $slug) { feed(first: 20) { edges { node {
  __typename
  ... on Poll { id viewerHasVoted q: question results { totalVotes } }
  ... on Idea { title viewerSupports supportCount }
  ... on Idea { s2: viewerSupports hidden }
} } } } }"""


async def test_feed_memo_keeps_viewer_fields_per_viewer(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    idea = await proposed(gql, t.vera.token, t.territory, title="In feed?")
    assert not (await support(gql, t.alice.token, idea["id"])).get("errors")
    for _ in range(3):
        readers = [("alice", t.alice.token), ("bob", t.bob.token), ("anon", None), ("mona", t.mona.token)] * 3
        answers = await asyncio.gather(*(post(http, FEED, {"slug": slug}, tok) for _, tok in readers))
        for (who, _), body in zip(readers, answers, strict=True):
            assert "errors" not in body, body
            items = [e["node"] for e in body["data"]["territory"]["feed"]["edges"]]
            for item in items:
                if item["__typename"] == "Poll" and item["id"] == poll["id"]:
                    assert item["viewerHasVoted"] is (who == "alice"), (who, item)
                    assert item["results"]["totalVotes"] == 1
                if item["__typename"] == "Idea" and item["title"] == "In feed?":
                    assert item["viewerSupports"] is (who == "alice"), (who, item)
                    assert item["s2"] is (who == "alice"), (who, item)


# The same shared territory object selected twice with different sub-selections, aliases, and
# fragment variations: every selection gets its own answer.
TWICE = """query T($slug: String!) {
  a: territory(slug: $slug) { name }
  b: territory(slug: $slug) { __typename id stats { participants votesCast } }
  c: territory(slug: $slug) { ...N stats { __typename votesCast } }
}
fragment N on Territory { n: name id }"""


async def test_same_shared_object_twice_different_selections(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    first = await post(http, TWICE, {"slug": slug}, t.alice.token)
    second = await post(http, TWICE, {"slug": slug}, t.bob.token)
    third = await post(http, TWICE, {"slug": slug}, None)
    for body in (first, second, third):
        assert "errors" not in body, body
        data = body["data"]
        assert set(data["a"]) == {"name"}
        assert set(data["b"]) == {"__typename", "id", "stats"} and set(data["b"]["stats"]) == {"participants", "votesCast"}
        assert set(data["c"]) == {"n", "id", "stats"} and set(data["c"]["stats"]) == {"__typename", "votesCast"}
        assert data["c"]["stats"]["__typename"] == "TerritoryStats"


INCLUDE = """query I($slug: String!, $on: Boolean!) { territory(slug: $slug) {
  name
  stats { participants votesCast @include(if: $on) }
} }"""


async def test_include_directive_not_memoized_across_variables(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    for on in (True, False, True, False):
        body = await post(http, INCLUDE, {"slug": slug, "on": on}, t.alice.token)
        assert "errors" not in body, body
        assert ("votesCast" in body["data"]["territory"]["stats"]) is on, (on, body)


STATS_Q = "query S($slug: String!) { territory(slug: $slug) { stats { votesCast } } }"


async def test_stats_after_own_vote_is_fresh(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    poll = await created(gql, t.odile.token, t.gid)
    before = await post(http, STATS_Q, {"slug": slug}, t.alice.token)
    n = before["data"]["territory"]["stats"]["votesCast"]
    # readers keep the stats hot while alice votes
    readers = [post(http, STATS_Q, {"slug": slug}, tok) for tok in (t.bob.token, None, t.mona.token) * 4]
    await asyncio.gather(*readers, voted(gql, t.alice.token, poll["id"], option_ids(poll)[0]))
    after = await post(http, STATS_Q, {"slug": slug}, t.alice.token)
    assert after["data"]["territory"]["stats"]["votesCast"] == n + 1, (n, after)
    anon = await post(http, STATS_Q, {"slug": slug}, None)
    assert anon["data"]["territory"]["stats"]["votesCast"] == n + 1, (n, anon)


RATE = "query R($slug: String!) { rateLimit { remaining cost } territory(slug: $slug) { name } }"


async def test_anonymous_rate_limit_never_shared(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    t = await town()
    slug = t.territory.slug
    cache = app.state.graphql.response_cache
    joined, stored = cache.joined, cache.stored
    bodies = await asyncio.gather(*(post(http, RATE, {"slug": slug}, None) for _ in range(8)))
    for body in bodies:
        assert "errors" not in body, body
    assert cache.joined == joined and cache.stored == stored


async def test_anonymous_language_per_entry(gql: Any, http: httpx.AsyncClient) -> None:
    # An answer carrying an error message in the reader's language is never kept; and two
    # concurrent anonymous readers of different languages each get their own.
    t = await town()
    q = "query E($slug: String!) { territory(slug: $slug) { name polls(first: -1) { edges { node { id } } } } }"
    fr, en = await asyncio.gather(
        post(http, q, {"slug": t.territory.slug}, None, **{"Accept-Language": "fr"}),
        post(http, q, {"slug": t.territory.slug}, None, **{"Accept-Language": "en"}),
    )
    assert "errors" in fr and "errors" in en, (fr, en)
    assert fr["errors"][0]["message"] != en["errors"][0]["message"], (fr, en)
    # and a cacheable answer computed concurrently in two languages: each its own entry
    q2 = "query E2($slug: String!) { territory(slug: $slug) { name } }"
    answers = await asyncio.gather(*(
        post(http, q2, {"slug": t.territory.slug}, None, **{"Accept-Language": lang}) for lang in ("fr", "en") * 4))
    assert all("errors" not in a for a in answers)


VERIFY_SELF_THEN_VOTE = """mutation($me: ID!, $poll: ID!, $opt: ID!) {
  verifyMember(input: {memberId: $me}) { member { verified } userErrors { code } }
  castVote(input: {pollId: $poll, optionIds: [$opt]}) { poll { viewerHasVoted } userErrors { code } }
}"""


async def test_verify_self_then_vote_in_same_request(gql: Any, http: httpx.AsyncClient) -> None:
    """DEFECT (fails), also before the token statement (the membership DataLoader's cache):
    verifyMember does not refresh the request's memberships, castVote answers NOT_VERIFIED."""
    # mona (moderator, not verified) verifies herself, then votes in a verified-only poll
    t = await town()
    poll = await created(gql, t.odile.token, t.gid, verifiedOnly=True)
    body = await post(http, VERIFY_SELF_THEN_VOTE, {"me": t.mona.member_gid, "poll": poll["id"],
                                                    "opt": option_ids(poll)[0]}, t.mona.token)
    assert body["data"]["verifyMember"]["member"]["verified"] is True, body
    # She is verified when castVote runs: her ballot must be taken
    assert body["data"]["castVote"]["userErrors"] == [], body


POLLS = """query P($slug: String!) { territory(slug: $slug) {
  polls(first: 10) { edges { node { id viewerHasVoted results { totalVotes } } } }
} }"""


async def test_own_vote_visible_while_others_read(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    poll = await created(gql, t.odile.token, t.gid)
    voters = [t.alice, t.bob, t.vera]
    for round_no, voter in enumerate(voters):
        others = [post(http, POLLS, {"slug": slug}, tok) for tok in (t.mona.token, t.adam.token, t.odile.token) * 3]

        async def vote_then_read(voter: Any = voter) -> dict[str, Any]:
            await voted(gql, voter.token, poll["id"], option_ids(poll)[0])
            return await post(http, POLLS, {"slug": slug}, voter.token)

        results = await asyncio.gather(*others, vote_then_read())
        mine = [e["node"] for e in results[-1]["data"]["territory"]["polls"]["edges"] if e["node"]["id"] == poll["id"]][0]
        assert mine["viewerHasVoted"] is True, (round_no, mine)
        assert mine["results"]["totalVotes"] == round_no + 1, (round_no, mine)


ANON = "query A($slug: String!) { territory(slug: $slug) { name stats { participants } } }"


async def test_cancelled_builder_and_waiters_do_not_hang(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    t = await town()
    slug = t.territory.slug
    await IdeaRow.filter(id=-1).update(hidden=True)  # (nothing, but a write statement)
    for _ in range(5):
        await proposed(gql, t.vera.token, t.territory, title="x")  # every cache cold
        tasks = [asyncio.ensure_future(post(http, ANON, {"slug": slug}, None)) for _ in range(6)]
        await asyncio.sleep(0)
        tasks[0].cancel()  # the first (the builder, likely) goes away
        tasks[2].cancel()  # and one waiter
        done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=20)
        for index, result in enumerate(done):
            if index in (0, 2) and isinstance(result, BaseException):
                continue
            assert isinstance(result, dict) and "errors" not in result, (index, result)
            assert result["data"]["territory"]["name"] == t.territory.name


FEED_TWICE = """query F($slug: String!) { territory(slug: $slug) {
  x: feed(first: 5) { edges { node { ... on Poll { id viewerHasVoted } } } }
  y: feed(first: 5) { edges { node { ... on Poll { id status } __typename } } }
} }"""


async def test_feed_twice_different_selections(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    for tok, mine in ((t.alice.token, True), (t.bob.token, False), (t.alice.token, True), (t.bob.token, False)):
        body = await post(http, FEED_TWICE, {"slug": t.territory.slug}, tok)
        assert "errors" not in body, body
        x = [e["node"] for e in body["data"]["territory"]["x"]["edges"]]
        y = [e["node"] for e in body["data"]["territory"]["y"]["edges"]]
        assert x and all(set(n) == {"id", "viewerHasVoted"} for n in x), x
        assert all(n["viewerHasVoted"] is mine for n in x), (mine, x)
        assert all(set(n) == {"id", "status", "__typename"} for n in y), y


FEED_STATUS = """query F($slug: String!) { territory(slug: $slug) {
  feed(first: 5) { edges { node { ... on Poll { id status } } } }
} }"""


async def test_feed_poll_status_turns_at_close(gql: Any, http: httpx.AsyncClient) -> None:
    import datetime as dt

    from tests.polls.stories import move_in_time, now

    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await move_in_time(poll["id"], opens_at=now() - dt.timedelta(hours=1), closes_at=now() + dt.timedelta(seconds=1.5))

    def status(body: dict[str, Any]) -> str:
        assert "errors" not in body, body
        return [e["node"]["status"] for e in body["data"]["territory"]["feed"]["edges"]
                if e["node"].get("id") == poll["id"]][0]

    for tok in (None, t.alice.token, None, t.bob.token):
        assert status(await post(http, FEED_STATUS, {"slug": t.territory.slug}, tok)) == "OPEN"
    await asyncio.sleep(1.7)
    answers = await asyncio.gather(*(post(http, FEED_STATUS, {"slug": t.territory.slug}, tok)
                                     for tok in (None, t.alice.token, t.bob.token, None)))
    assert [status(a) for a in answers] == ["CLOSED"] * 4


SUPPORT_THEN_PAGE = """mutation($id: ID!) { supportIdea(input: {ideaId: $id}) {
  idea { id territory { ideas(first: 20) { edges { node { id viewerSupports supportCount } } }
                        stats { participants } } }
  userErrors { code }
} }"""

IDEAS = """query I($slug: String!) { territory(slug: $slug) {
  ideas(first: 20) { edges { node { id viewerSupports supportCount } } } stats { participants } } }"""


async def test_mutation_payload_reads_shared_page_after_own_write(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    ideas = [await proposed(gql, t.vera.token, t.territory, title=f"I{i}") for i in range(3)]
    for supporter in (t.alice, t.bob, t.odile):
        for idea in ideas:
            # others keep the page hot (and in flight) while the support is written
            others = [post(http, IDEAS, {"slug": slug}, tok) for tok in (t.mona.token, None, t.adam.token) * 2]
            results = await asyncio.gather(post(http, SUPPORT_THEN_PAGE, {"id": idea["id"]}, supporter.token), *others)
            body = results[0]
            assert "errors" not in body, body
            payload = body["data"]["supportIdea"]
            assert payload["userErrors"] == [], payload
            page = {e["node"]["id"]: e["node"] for e in payload["idea"]["territory"]["ideas"]["edges"]}
            assert page[idea["id"]]["viewerSupports"] is True, (supporter, page)
            count = (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).support_count
            assert page[idea["id"]]["supportCount"] == count, (page, count)


POLLS_TWICE = """query P($slug: String!) { territory(slug: $slug) {
  a: polls(first: 10) { edges { node { id v: viewerHasVoted v2: viewerHasVoted __typename } } }
  b: polls(first: 10) { edges { node { id results { totalVotes } } } }
  c: polls(first: 10) { edges { node { ...PV } } }
} }
fragment PV on Poll { viewerHasVoted id }"""


async def test_overlay_same_page_three_selections(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    readers = [(t.alice.token, True), (t.bob.token, False), (None, False), (t.mona.token, False)] * 3
    answers = await asyncio.gather(*(post(http, POLLS_TWICE, {"slug": t.territory.slug}, tok) for tok, _ in readers))
    for (_, mine), body in zip(readers, answers, strict=True):
        assert "errors" not in body, body
        d = body["data"]["territory"]
        a = [e["node"] for e in d["a"]["edges"] if e["node"]["id"] == poll["id"]][0]
        b = [e["node"] for e in d["b"]["edges"] if e["node"]["id"] == poll["id"]][0]
        c = [e["node"] for e in d["c"]["edges"] if e["node"]["id"] == poll["id"]][0]
        assert list(a) == ["id", "v", "v2", "__typename"] and a["v"] is mine and a["v2"] is mine, (mine, a)
        assert list(b) == ["id", "results"] and b["results"]["totalVotes"] == 1, b
        assert list(c) == ["viewerHasVoted", "id"] and c["viewerHasVoted"] is mine, (mine, c)
