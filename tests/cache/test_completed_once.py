"""A stored shared part's objects are completed once per selection (schema/execution.py,
sharing/parts.py `seal` and `overlay`, docs/adr/0024): later readers get the same answer
without the work, each with their own viewer fields, in the order they asked for them, and
never an answer completed for another selection or other variables."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from schema.execution import FastExecutionContext
from tests.cache.test_page_cache import pages_of, shared
from tests.ideas.stories import proposed, support
from tests.polls.stories import created, option_ids, town, voted

# The viewer's fields sit between shared ones: the answer must keep the selection's order.
MIDDLE = """query Middle($slug: String!) { territory(slug: $slug) {
  polls(first: 10, status: OPEN) { edges { node { id viewerHasVoted status
    results { totalVotes options { votes } } } } }
  ideas(first: 10, orderBy: MOST_SUPPORTED) { edges { node { title viewerSupports supportCount
    author { displayName } } } }
} }"""


async def read(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["territory"]  # type: ignore[no-any-return]


def nodes(page: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page[field]["edges"]]


@pytest.fixture
def completed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The type names of the objects the shortcut completes field by field (not from a memo)."""
    names: list[str] = []
    original = FastExecutionContext._object

    def spy(self: FastExecutionContext, return_type: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(return_type.name)
        return original(self, return_type, *args, **kwargs)

    monkeypatch.setattr(FastExecutionContext, "_object", spy)
    return names


async def a_town_with_a_vote_and_a_support(gql: Any) -> Any:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    idea = await proposed(gql, t.vera.token, t.territory)
    assert not (await support(gql, t.alice.token, idea["id"])).get("errors")
    return t


async def test_later_readers_get_the_shared_objects_without_completing_them_again(
    gql: Any, http: httpx.AsyncClient, app: Any, completed: list[str]
) -> None:
    # Given a home page whose lists are stored shared parts, read once by alice
    t = await a_town_with_a_vote_and_a_support(gql)
    pages = pages_of(app)
    first = await shared(http, pages, t.alice.token, t.territory.slug)

    # When bob reads the same page
    completed.clear()
    hits = pages.hits
    seen_by_bob = await shared(http, pages, t.bob.token, t.territory.slug)
    assert pages.hits > hits

    # Then no poll, result, idea or author was completed again (only the per-request edges
    # that carry the viewer's copies), and he sees what alice saw but his own fields
    assert completed and set(completed) <= {"PollEdge", "IdeaEdge"}, completed
    for field, own in (("polls", "viewerHasVoted"), ("ideas", "viewerSupports")):
        assert [{**n, own: None} for n in nodes(first, field)] == [{**n, own: None} for n in nodes(seen_by_bob, field)]
        assert any(n[own] for n in nodes(first, field))
        assert not any(n[own] for n in nodes(seen_by_bob, field))


async def test_each_viewer_gets_their_own_fields_in_the_order_they_asked(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    t = await a_town_with_a_vote_and_a_support(gql)
    pages = pages_of(app)
    await shared(http, pages, t.alice.token, t.territory.slug)  # the parts are stored

    # Alice, bob, alice again: the second and third reads come from the memo
    answers = [await read(http, who.token, MIDDLE, slug=t.territory.slug) for who in (t.alice, t.bob, t.alice)]
    assert answers[0] == answers[2]
    for answer, mine in zip(answers, (True, False, True), strict=True):
        poll, idea = nodes(answer, "polls")[0], nodes(answer, "ideas")[0]
        assert list(poll) == ["id", "viewerHasVoted", "status", "results"]
        assert list(idea) == ["title", "viewerSupports", "supportCount", "author"]
        assert poll["viewerHasVoted"] is mine and idea["viewerSupports"] is mine


async def test_a_selection_under_a_directive_follows_each_requests_variables(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    t = await a_town_with_a_vote_and_a_support(gql)
    await shared(http, pages_of(app), t.alice.token, t.territory.slug)
    # One directive in the operation, one in a fragment (with an operation that has none)
    in_operation = """query Q($slug: String!, $full: Boolean!) { territory(slug: $slug) {
      polls(first: 10, status: OPEN) { edges { node { id results @include(if: $full) { totalVotes } } } }
      ideas(first: 10) { edges { node { title author @skip(if: $full) { displayName } } } } } }"""
    in_fragment = """query Q($slug: String!, $full: Boolean!) { territory(slug: $slug) {
      polls(first: 10, status: OPEN) { edges { node { id ...Results } } }
      ideas(first: 10) { edges { node { ...Author } } } } }
    fragment Results on Poll { results @include(if: $full) { totalVotes } }
    fragment Author on Idea { title author @skip(if: $full) { displayName } }"""
    for query, full in itertools.product((in_operation, in_fragment), (True, False, True, False)):
        answer = await read(http, t.bob.token, query, slug=t.territory.slug, full=full)
        poll, idea = nodes(answer, "polls")[0], nodes(answer, "ideas")[0]
        assert ("results" in poll) is full and ("author" in idea) is not full
        if full:
            assert poll["results"] == {"totalVotes": 1}


async def test_two_documents_over_the_same_objects_get_their_own_fields(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    t = await a_town_with_a_vote_and_a_support(gql)
    await shared(http, pages_of(app), t.alice.token, t.territory.slug)
    one = "query One($slug: String!) { territory(slug: $slug) { ideas(first: 10) { edges { node { title } } } } }"
    two = """query Two($slug: String!) { territory(slug: $slug) { ideas(first: 10) { edges { node {
      name: title supportCount author { id } } } } } }"""
    for _ in range(2):
        first = nodes(await read(http, t.bob.token, one, slug=t.territory.slug), "ideas")[0]
        second = nodes(await read(http, t.bob.token, two, slug=t.territory.slug), "ideas")[0]
        assert list(first) == ["title"]
        assert list(second) == ["name", "supportCount", "author"] and list(second["author"]) == ["id"]
        assert second["name"] == first["title"]


async def test_a_document_is_validated_once_and_its_errors_are_each_requests_own(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.validation_cache as cache

    calls: list[str] = []
    original = cache.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        calls.append(document.loc.source.body)
        return original(schema, document, rules)

    monkeypatch.setattr(cache, "validate_document", counting)
    valid = "query ValidatedOnce { __typename territories(first: 1) { totalCount } }"
    invalid = "query InvalidOnce { territories(first: 1) { nope } }"
    for _ in range(3):
        body = (await http.post("/graphql", json={"query": valid})).json()
        assert "errors" not in body and body["data"]["territories"]["totalCount"] == await count(http)
    assert calls.count(valid) == 1

    answers = []
    for _ in range(3):
        body = (await http.post("/graphql", json={"query": invalid})).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert len(body["errors"]) == 1  # the cached list is copied, never added to
        answers.append(body)
    assert calls.count(invalid) == 1
    assert answers[0] == answers[1] == answers[2]


async def count(http: httpx.AsyncClient) -> int:
    body = (await http.post("/graphql", json={"query": "{ territories(first: 1) { totalCount } }"})).json()
    return int(body["data"]["territories"]["totalCount"])


async def test_the_viewers_own_fields_of_a_page_are_read_by_one_statement(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    from tests.test_query_count import count_queries

    t = await a_town_with_a_vote_and_a_support(gql)
    pages = pages_of(app)
    await shared(http, pages, t.alice.token, t.territory.slug)  # the lists are stored shared parts

    with count_queries() as counted:
        answer = await read(http, t.alice.token, MIDDLE, slug=t.territory.slug)
    assert nodes(answer, "polls")[0]["viewerHasVoted"] and nodes(answer, "ideas")[0]["viewerSupports"]
    marks = [q for q in counted.queries if "poll_participation" in q or "support" in q]
    assert len(marks) == 1 and "poll_participation" in marks[0] and "support s" in marks[0], counted.queries
    # the token with the viewer's memberships (their audience), then their marks: nothing else
    assert len(counted.queries) == 2, "\n".join(counted.queries)
    assert "access_token" in counted.queries[0] and "member" in counted.queries[0]


async def test_a_territorys_stats_are_read_once_for_every_signed_in_reader_until_a_write(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    from tests.test_query_count import count_queries

    t = await a_town_with_a_vote_and_a_support(gql)
    query = "query S($slug: String!) { territory(slug: $slug) { stats { participants votesCast } } }"
    first = await read(http, t.alice.token, query, slug=t.territory.slug)
    with count_queries() as counted:
        again = await read(http, t.bob.token, query, slug=t.territory.slug)
    assert again == first
    assert not [q for q in counted.queries if "territory_stats" in q], counted.queries

    # A vote moves the figures: the next reader sees it
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.bob.token, poll["id"], option_ids(poll)[0])
    after = await read(http, t.alice.token, query, slug=t.territory.slug)
    assert after["stats"]["votesCast"] == first["stats"]["votesCast"] + 1


async def test_the_feed_is_read_once_for_every_reader_until_a_write(
    gql: Any, http: httpx.AsyncClient, app: Any
) -> None:
    from tests.test_query_count import count_queries

    t = await a_town_with_a_vote_and_a_support(gql)
    query = """query F($slug: String!) { territory(slug: $slug) { feed(first: 5) { edges { cursor node {
      __typename ... on Poll { id question viewerHasVoted } } } } } }"""
    first = await read(http, t.alice.token, query, slug=t.territory.slug)
    with count_queries() as counted:
        again = await read(http, t.bob.token, query, slug=t.territory.slug)
    assert not [q for q in counted.queries if "feed_entry" in q], counted.queries
    # the same entries, each reader's own viewerHasVoted (alice voted in the town's poll)
    polls = [e["node"] for e in first["feed"]["edges"] if e["node"]["__typename"] == "Poll"]
    bobs = [e["node"] for e in again["feed"]["edges"] if e["node"]["__typename"] == "Poll"]
    assert [p["id"] for p in polls] == [p["id"] for p in bobs] and polls
    assert polls[0]["viewerHasVoted"] is True and bobs[0]["viewerHasVoted"] is False

    # A new poll is in the next read
    poll = await created(gql, t.odile.token, t.gid)
    after = await read(http, t.bob.token, query, slug=t.territory.slug)
    assert after["feed"]["edges"][0]["node"]["id"] == poll["id"]
