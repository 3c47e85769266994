"""Territory.questions and Territory.ideas filtered by author, project and creation time, for a
staff screen: exact lists and counts, bad ids refused with a code, and never a cached page (the
anonymous response cache, the shared pages of signed-in readers) of another filter."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from models.ideas import Idea as IdeaRow
from models.projects import Project as ProjectRow
from models.questions import Question as QuestionRow
from schema.relay import encode_id
from sharing.parts import SharedParts
from tests.cache.test_response_cache import anonymous, cache_of, warm
from tests.polls.stories import Town, town
from tests.questions.stories import asked, pk_of

QUESTIONS = """query($slug: String!, $author: ID, $since: DateTime, $until: DateTime, $status: QuestionStatus,
                      $order: QuestionOrder, $official: ID) {
  territory(slug: $slug) {
    questions(first: 50, authorId: $author, since: $since, until: $until, status: $status, orderBy: $order,
              officialId: $official) {
      totalCount edges { node { title author { id } } }
    }
  }
}"""

IDEAS = """query($slug: String!, $author: ID, $project: ID, $since: DateTime, $until: DateTime, $order: IdeaOrder) {
  territory(slug: $slug) {
    ideas(first: 50, authorId: $author, projectId: $project, since: $since, until: $until, orderBy: $order) {
      totalCount edges { node { title } }
    }
  }
}"""

DAY = dt.timedelta(days=1)


def titles(answer: dict[str, Any], field: str) -> list[str]:
    assert "errors" not in answer, answer
    return [edge["node"]["title"] for edge in answer["data"]["territory"][field]["edges"]]


def count(answer: dict[str, Any], field: str) -> int:
    return answer["data"]["territory"][field]["totalCount"]  # type: ignore[no-any-return]


async def dated_questions(gql: Any, t: Town) -> dict[str, str]:
    """alice's questions of three days ago and of today, bob's of yesterday."""
    now = dt.datetime.now(dt.UTC)
    made = {}
    for who, title, age in ((t.alice, "Old", 3 * DAY), (t.bob, "Yesterday", DAY), (t.alice, "Today", dt.timedelta())):
        question = await asked(gql, who.token, t.territory, title=title)
        await QuestionRow.filter(id=pk_of(question["id"], "Question")).update(created_at=now - age)
        made[title] = question["id"]
    return made


async def dated_ideas(t: Town, project: ProjectRow) -> None:
    now = dt.datetime.now(dt.UTC)
    for who, title, age, about in ((t.alice, "Garden", 3 * DAY, project), (t.bob, "Bench", DAY, project),
                                   (t.alice, "Wall", dt.timedelta(), None)):
        assert who.member is not None
        await IdeaRow.create(territory=t.territory, author=who.member, title=title, body="b", project=about,
                             created_at=now - age)


async def test_odile_filters_questions_by_author_and_time(gql: Any) -> None:
    # Given alice's and bob's questions over three days
    t = await town()
    await dated_questions(gql, t)
    now = dt.datetime.now(dt.UTC)
    slug = t.territory.slug

    async def ask(**variables: Any) -> dict[str, Any]:
        return await gql(QUESTIONS, {"slug": slug, **variables}, token=t.odile.token)  # type: ignore[no-any-return]

    # When odile filters by author, by time, by both, with the status and the order kept
    by_alice = await ask(author=t.alice.member_gid)
    recent = await ask(since=(now - 2 * DAY).isoformat())
    before = await ask(until=(now - 2 * DAY).isoformat())
    window = await ask(since=(now - 2 * DAY).isoformat(), until=(now - DAY / 2).isoformat())
    alice_recent = await ask(author=t.alice.member_gid, since=(now - 2 * DAY).isoformat(), status="OPEN",
                             order="OLDEST")
    # Then each list holds exactly what matches, newest first unless ordered otherwise, counts too
    assert titles(by_alice, "questions") == ["Today", "Old"] and count(by_alice, "questions") == 2
    assert {e["node"]["author"]["id"] for e in by_alice["data"]["territory"]["questions"]["edges"]} == {
        t.alice.member_gid}
    assert titles(recent, "questions") == ["Today", "Yesterday"] and count(recent, "questions") == 2
    assert titles(before, "questions") == ["Old"] and count(before, "questions") == 1
    assert titles(window, "questions") == ["Yesterday"]
    assert titles(alice_recent, "questions") == ["Today"]
    # And an offset other than UTC means the same instant; a range that holds nothing is empty
    paris = (now - 2 * DAY).astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()
    assert titles(await ask(since=paris), "questions") == ["Today", "Yesterday"]
    assert titles(await ask(since=now.isoformat(), until=(now - DAY).isoformat()), "questions") == []
    # And a member id naming nobody matches nothing
    assert titles(await ask(author=encode_id("Member", 10**6)), "questions") == []


async def test_ideas_filter_by_author_project_and_time_and_a_hidden_project_lists_nothing_but_to_staff(
    gql: Any,
) -> None:
    # Given alice's and bob's ideas, two of them about the tram project
    t = await town()
    assert t.odile.member is not None
    project = await ProjectRow.create(territory=t.territory, created_by=t.odile.member, title="Tram", description="d")
    await dated_ideas(t, project)
    now = dt.datetime.now(dt.UTC)
    slug, project_id = t.territory.slug, encode_id("Project", project.id)

    async def ask(who: Any, **variables: Any) -> dict[str, Any]:
        return await gql(IDEAS, {"slug": slug, **variables}, token=who.token)  # type: ignore[no-any-return]

    # When ideas are filtered by project, by author and project, and by time
    assert titles(await ask(t.alice, project=project_id), "ideas") == ["Bench", "Garden"]
    assert titles(await ask(t.alice, project=project_id, author=t.alice.member_gid), "ideas") == ["Garden"]
    assert titles(await ask(t.alice, since=(now - 2 * DAY).isoformat()), "ideas") == ["Wall", "Bench"]
    assert count(await ask(t.alice, project=project_id, until=(now - 2 * DAY).isoformat()), "ideas") == 1
    # And once a moderator hid the project, only staff list ideas under it
    await ProjectRow.filter(id=project.id).update(hidden=True)
    hidden_for_alice = await ask(t.alice, project=project_id)
    assert titles(hidden_for_alice, "ideas") == [] and count(hidden_for_alice, "ideas") == 0
    assert titles(await ask(t.mona, project=project_id), "ideas") == ["Bench", "Garden"]
    # (the ideas themselves stay listed for everyone, as before)
    assert titles(await ask(t.alice), "ideas") == ["Wall", "Bench", "Garden"]


async def test_an_id_of_the_wrong_kind_or_no_id_at_all_is_bad_user_input(gql: Any, http: httpx.AsyncClient) -> None:
    t = await town()
    slug = t.territory.slug
    project_id = encode_id("Project", 1)
    for query, variables, argument in (
        (QUESTIONS, {"author": "garbage"}, "authorId"),
        (QUESTIONS, {"author": project_id}, "authorId"),
        (QUESTIONS, {"official": "Zm9v"}, "officialId"),
        (IDEAS, {"author": project_id}, "authorId"),
        (IDEAS, {"project": t.alice.member_gid}, "projectId"),
        (IDEAS, {"project": "!!"}, "projectId"),
    ):
        response = await http.post("/graphql", json={"query": query, "variables": {"slug": slug, **variables}},
                                   headers={"Authorization": f"Bearer {t.odile.token}"})
        # Then a GraphQL error with its code, never a 500
        assert response.status_code == 200, response.text
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert argument in body["errors"][0]["message"]
        assert body["data"]["territory"] is None
    # And a time that is not one, or has no offset, or is at the edge of the calendar, is refused too
    for since in ("yesterday", "2026-12-01T10:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-05:00"):
        body = await gql(QUESTIONS, {"slug": slug, "since": since}, token=t.odile.token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


# -- caches --------------------------------------------------------------------------------------


def pages_of(app: Any) -> SharedParts:
    parts = app.state.graphql.parts
    assert parts is not None
    return parts  # type: ignore[no-any-return]


async def signed_in(http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def shared_hit(http: httpx.AsyncClient, pages: SharedParts, token: str, query: str,
                     variables: dict[str, Any]) -> dict[str, Any]:
    """Ask until the lists come from the shared pages (nothing rebuilt); returns that answer."""
    for _ in range(50):
        hits, misses = pages.hits, pages.misses
        body = await signed_in(http, token, query, variables)
        if pages.misses == misses and pages.hits > hits:
            return body
        await asyncio.sleep(0.01)
    raise AssertionError("the list never came from the shared pages")


async def test_a_filtered_page_is_never_served_for_another_filter(gql: Any, http: httpx.AsyncClient, app: Any) -> None:
    # Given alice's and bob's questions and ideas over three days
    t = await town()
    await dated_questions(gql, t)
    assert t.odile.member is not None
    project = await ProjectRow.create(territory=t.territory, created_by=t.odile.member, title="Tram", description="d")
    await dated_ideas(t, project)
    now = dt.datetime.now(dt.UTC)
    slug = t.territory.slug
    since = (now - 2 * DAY).isoformat()
    cases = [
        (QUESTIONS, "questions", [
            ({}, ["Today", "Yesterday", "Old"]),
            ({"author": t.alice.member_gid}, ["Today", "Old"]),
            ({"author": t.bob.member_gid}, ["Yesterday"]),
            ({"since": since}, ["Today", "Yesterday"]),
            ({"until": since}, ["Old"]),
            ({"author": t.alice.member_gid, "since": since}, ["Today"]),
        ]),
        (IDEAS, "ideas", [
            ({}, ["Wall", "Bench", "Garden"]),
            ({"project": encode_id("Project", project.id)}, ["Bench", "Garden"]),
            ({"author": t.bob.member_gid}, ["Bench"]),
            ({"since": since}, ["Wall", "Bench"]),
            ({"until": since}, ["Garden"]),
        ]),
    ]
    cache, pages = cache_of(app), pages_of(app)
    for query, field, filters in cases:
        # When each filter's answer is cached in turn, anonymously and in the shared pages
        for variables, expected in filters:
            warmed = await warm(http, cache, query, {"slug": slug, **variables})
            assert titles(warmed, field) == expected, (variables, warmed)
            hit = await shared_hit(http, pages, t.alice.token, query, {"slug": slug, **variables})
            assert titles(hit, field) == expected, (variables, hit)
        # Then, asked again in any order, each filter gets its own page from either cache
        for variables, expected in reversed(filters):
            assert titles(await anonymous(http, query, {"slug": slug, **variables}), field) == expected
            assert titles(await signed_in(http, t.bob.token, query, {"slug": slug, **variables}), field) == expected
