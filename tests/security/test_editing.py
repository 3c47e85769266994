"""Attacks on editing and deleting: someone else's content, two deletions at once, editing
what a moderator hid, restoring what its author deleted, finding hidden content by its
human reference, and reading someone else's rate-limit budget."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import resolvers.editing
from models.comments import Comment as CommentRow
from models.ideas import Idea as IdeaRow
from models.moderation import Report
from models.questions import Question as QuestionRow
from tests.comments.test_edit_delete import delete as delete_comment
from tests.comments.test_edit_delete import edit as edit_comment
from tests.factories import make_person
from tests.ideas.stories import proposed
from tests.news.stories import comment, moderate, report
from tests.polls.stories import town
from tests.questions.stories import asked, pk_of
from tests.questions.test_delete_and_reference import codes, delete_idea, delete_question
from tests.ratelimit.test_limits import client_from, clock, limited_app  # noqa: F401, F811 (fixtures)

YEAR = dt.datetime.now(dt.UTC).year
BY_REFERENCE = """query($s: String!, $r: String!) { territory(slug: $s) {
  questionByReference(reference: $r) { id title url reference }
  ideaByReference(reference: $r) { id title url reference }
} }"""


async def test_nobody_but_the_author_deletes_and_nothing_changes(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    idea = await proposed(gql, t.alice.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Mine.")
    outsider = await make_person("otto")
    for token, expected in (
        (t.bob.token, ["FORBIDDEN"]), (t.mona.token, ["FORBIDDEN"]), (t.adam.token, ["FORBIDDEN"]),
        (outsider.token, ["FORBIDDEN"]), (None, ["UNAUTHENTICATED"]),
    ):
        assert codes(await delete_question(gql, token, question["id"]), "deleteQuestion") == expected
        assert codes(await delete_idea(gql, token, idea["id"]), "deleteIdea") == expected
        assert codes(await delete_comment(gql, token, said["id"]), "deleteComment") == expected
        assert codes(await edit_comment(gql, token, said["id"], "Pwned"), "editComment") == expected
    q = await QuestionRow.get(id=pk_of(question["id"], "Question"))
    i = await IdeaRow.get(id=pk_of(idea["id"], "Idea"))
    c = await CommentRow.get(id=pk_of(said["id"], "Comment"))
    assert (q.deleted_at, q.hidden, i.deleted_at, i.hidden) == (None, False, None, False)
    assert (c.deleted_at, c.body, c.edited_at) == (None, "Mine.", None)
    # Ids of the wrong kind, or garbage, are unknown
    assert codes(await delete_question(gql, t.alice.token, idea["id"]), "deleteQuestion") == ["NOT_FOUND"]
    assert codes(await delete_comment(gql, t.alice.token, "not-an-id"), "deleteComment") == ["NOT_FOUND"]


async def test_two_deletions_at_once_delete_once(gql: Any) -> None:
    """Double-tapped delete: both requests pass the checks on the row as read; the UPDATE's
    WHERE (deleted_at IS NULL) lets exactly one through, the other answers ALREADY_DELETED."""
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Twice?")

    comments = await asyncio.gather(*(delete_comment(gql, t.alice.token, said["id"]) for _ in range(4)))
    outcomes = sorted(tuple(codes(r, "deleteComment")) for r in comments)
    assert outcomes == [(), ("ALREADY_DELETED",), ("ALREADY_DELETED",), ("ALREADY_DELETED",)]

    questions = await asyncio.gather(*(delete_question(gql, t.alice.token, question["id"]) for _ in range(3)))
    outcomes = sorted(tuple(codes(r, "deleteQuestion")) for r in questions)
    assert outcomes == [(), ("ALREADY_DELETED",), ("ALREADY_DELETED",)]
    row = await QuestionRow.get(id=pk_of(question["id"], "Question"))
    assert row.deleted_at is not None and row.hidden


async def test_editing_a_hidden_comment_is_refused_and_it_stays_hidden(gql: Any) -> None:
    # Given alice's comment that mona hid on bob's report
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Something nasty.")
    filed = await report(gql, t.bob.token, said["id"])
    assert (await moderate(gql, t.mona.token, filed["id"], "HIDE", "Insults."))["status"] == "HIDDEN"

    # When alice tries to launder it by editing, or to erase it by deleting, within the window
    edited = await edit_comment(gql, t.alice.token, said["id"], "Something nice.")
    deleted = await delete_comment(gql, t.alice.token, said["id"])

    # Then both are refused, and the comment is still hidden, as written
    assert codes(edited, "editComment") == ["EDIT_WINDOW_CLOSED"]
    assert codes(deleted, "deleteComment") == ["EDIT_WINDOW_CLOSED"]
    row = await CommentRow.get(id=pk_of(said["id"], "Comment"))
    assert (row.hidden, row.body, row.edited_at, row.deleted_at) == (True, "Something nasty.", None, None)
    # And bob, who cannot see it, cannot even learn it exists
    assert codes(await edit_comment(gql, t.bob.token, said["id"], "x"), "editComment") == ["NOT_FOUND"]


async def test_a_hide_between_the_checks_and_the_write_wins(gql: Any, monkeypatch: Any) -> None:
    """The edit's UPDATE repeats `hidden = false` in its WHERE: a hiding committed after the
    checks passed still stops the edit."""
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Original.")
    pk = pk_of(said["id"], "Comment")
    real = resolvers.editing.check_may_edit
    calls = 0

    async def checked_then_hidden(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        member = await real(*args)
        if calls == 1:
            await CommentRow.filter(id=pk).update(hidden=True)
        return member

    monkeypatch.setattr(resolvers.editing, "check_may_edit", checked_then_hidden)
    assert codes(await edit_comment(gql, t.alice.token, said["id"], "Laundered."), "editComment") == [
        "EDIT_WINDOW_CLOSED"
    ]
    assert (await CommentRow.get(id=pk)).body == "Original."


async def test_a_moderator_cannot_restore_what_its_author_deleted(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    filed = await report(gql, t.bob.token, question["id"])
    assert codes(await delete_question(gql, t.alice.token, question["id"]), "deleteQuestion") == []
    result = await gql(
        """mutation($i: ModerateContentInput!) { moderateContent(input: $i) { userErrors { code } } }""",
        {"i": {"reportId": filed["id"], "action": "RESTORE"}}, t.mona.token,
    )
    assert codes(result, "moderateContent") == ["ALREADY_DELETED"]
    assert (await QuestionRow.get(id=pk_of(question["id"], "Question"))).hidden
    assert (await Report.get(id=pk_of(filed["id"], "Report"))).decided_at is None


async def test_a_hidden_question_is_not_found_by_its_reference(gql: Any) -> None:
    # Given alice's question and idea, then hidden by moderation
    t = await town()
    question = await asked(gql, t.alice.token, t.territory, title="SECRET title")
    idea = await proposed(gql, t.alice.token, t.territory, title="SECRET idea")
    await QuestionRow.filter(id=pk_of(question["id"], "Question")).update(hidden=True)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)
    outsider = await make_person("otto")

    async def lookup(token: str | None, ref: str) -> dict[str, Any]:
        result = await gql(BY_REFERENCE, {"s": t.territory.slug, "r": ref}, token)
        assert not result.get("errors"), result
        return result["data"]["territory"]  # type: ignore[no-any-return]

    # Then the reference answers null, exactly as an unknown one, to all who cannot see it,
    # its author included (hidden content shows only in their own lists)
    for token in (None, t.alice.token, t.bob.token, t.odile.token, outsider.token):
        assert await lookup(token, f"Q-{YEAR}-0001") == await lookup(token, f"Q-{YEAR}-0999")
        assert (await lookup(token, f"Q-{YEAR}-0001"))["questionByReference"] is None
        assert (await lookup(token, f"I-{YEAR}-0001"))["ideaByReference"] is None
    # And the moderators find it
    staff = await lookup(t.mona.token, f"Q-{YEAR}-0001")
    assert staff["questionByReference"]["id"] == question["id"]
    assert staff["questionByReference"]["url"] == f"/t/{t.territory.slug}/questions/Q-{YEAR}-0001"
    assert (await lookup(t.adam.token, f"I-{YEAR}-0001"))["ideaByReference"]["id"] == idea["id"]


RATE = "{ rateLimit { limit remaining used resetAt cost maxCost } }"


async def test_the_rate_limit_budget_is_only_ever_the_callers_own(
    limited_app: Any, client_from: Any  # noqa: F811 (the fixtures imported above)
) -> None:
    # Given two clients on two addresses, allowed 10 requests a minute each
    app = limited_app(requests_ip=(10, 60))
    busy = client_from(app, "203.0.113.5")
    quiet = client_from(app, "198.51.100.9")

    # When the busy one sends five requests, then both read their budget, by POST and GET
    for _ in range(4):
        assert (await busy.post("/graphql", json={"query": "{ viewer { id } }"})).status_code == 200
    busy_post = (await busy.post("/graphql", json={"query": RATE})).json()["data"]["rateLimit"]
    quiet_post = (await quiet.post("/graphql", json={"query": RATE})).json()["data"]["rateLimit"]
    busy_get = await busy.get("/graphql", params={"query": RATE})
    quiet_get = await quiet.get("/graphql", params={"query": RATE})

    # Then each reads its own, the request that asks included; none was kept for the other
    assert (busy_post["limit"], busy_post["used"], busy_post["remaining"]) == (10, 5, 5)
    assert (quiet_post["limit"], quiet_post["used"], quiet_post["remaining"]) == (10, 1, 9)
    assert busy_get.json()["data"]["rateLimit"]["remaining"] == 4
    assert quiet_get.json()["data"]["rateLimit"]["remaining"] == 8
    # And no browser or CDN may keep an answer that is one caller's
    for response in (busy_get, quiet_get):
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers
    # And the cost is this query's, the reset within the window
    assert busy_post["cost"] >= 1 and busy_post["maxCost"] == 10_000
    reset = dt.datetime.fromisoformat(busy_post["resetAt"])
    assert dt.datetime.now(dt.UTC) < reset <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
    # And there is no argument to ask for anyone else's budget
    asked_other = await quiet.post("/graphql", json={"query": '{ rateLimit(key: "203.0.113.5") { remaining } }'})
    assert asked_other.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
