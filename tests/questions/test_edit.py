"""editQuestion: alice fixes her own question while it waits for its reply."""

from __future__ import annotations

from typing import Any

import resolvers.editing
from events.envelopes import territory_channel
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.polls.stories import published
from tests.questions.stories import NODE, QUESTION_FIELDS, asked, close, parse, pk_of, reply

EDIT = f"""
mutation Edit($input: EditQuestionInput!) {{
  editQuestion(input: $input) {{
    question {{ {QUESTION_FIELDS} updatedAt }}
    userErrors {{ field message code }}
  }}
}}
"""

TERRITORY_QUESTIONS = """
query($slug: String!) { territory(slug: $slug) { questions(first: 10) { edges { node { id title body } } } } }
"""


async def edit(gql: Any, token: str | None, question_id: str, **changes: Any) -> dict[str, Any]:
    return await gql(EDIT, {"input": {"questionId": question_id, **changes}}, token=token)  # type: ignore[no-any-return]


def user_errors(result: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert not result.get("errors"), result
    return [(e["field"], e["code"]) for e in result["data"]["editQuestion"]["userErrors"]]


async def test_alice_edits_her_open_question_and_every_reader_sees_it(gql, app_broker):
    # Given alice's open question, read once by bob through the territory's (shared) list
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    question = await asked(gql, alice.token, territory, title="Bus 4 on Sunday?")
    assert question_titles(await gql(TERRITORY_QUESTIONS, {"slug": territory.slug}, token=bob.token)) == [
        "Bus 4 on Sunday?"
    ]
    anonymous_before = await gql(TERRITORY_QUESTIONS, {"slug": territory.slug})
    assert question_titles(anonymous_before) == ["Bus 4 on Sunday?"]

    # When she fixes the title (the body stays)
    async with published(app_broker, territory_channel(territory.id)) as events:
        result = await edit(gql, alice.token, question["id"], title="Will bus 4 run on Sundays?")

    # Then the question is changed, updatedAt moved, and live clients were told
    assert user_errors(result) == []
    edited = result["data"]["editQuestion"]["question"]
    assert edited["title"] == "Will bus 4 run on Sundays?"
    assert edited["body"] == question["body"]
    assert parse(edited["updatedAt"]) > parse(question["createdAt"])
    assert [(e.type, e.data) for e in events] == [
        ("edited", {"kind": "Question", "id": pk_of(question["id"], "Question")})
    ]
    # And the lists (shared pages, the anonymous response cache) show the new title
    for token in (bob.token, None):
        listed = await gql(TERRITORY_QUESTIONS, {"slug": territory.slug}, token=token)
        assert question_titles(listed) == ["Will bus 4 run on Sundays?"]
    node = await gql(NODE, {"id": question["id"]})
    assert node["data"]["node"]["title"] == "Will bus 4 run on Sundays?"


async def test_an_edit_is_validated_as_asking_is_and_a_refused_edit_changes_nothing(gql, app_broker):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    question = await asked(gql, alice.token, territory)

    async with published(app_broker, territory_channel(territory.id)) as events:
        blank = await edit(gql, alice.token, question["id"], title="   ", body="x" * 20_001)

    assert user_errors(blank) == [(["input", "title"], "INVALID"), (["input", "body"], "INVALID")]
    assert events == []
    row = await QuestionRow.get(id=pk_of(question["id"], "Question"))
    assert (row.title, row.body, row.updated_at) == (question["title"], question["body"], None)


async def test_once_replied_the_question_is_closed_to_edits(gql):
    # Given alice's question that odile answered
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role="OFFICIAL")
    question = await asked(gql, alice.token, territory)
    assert not (await reply(gql, odile.token, question["id"])).get("errors")
    answered = (await gql(NODE, {"id": question["id"]}))["data"]["node"]

    # When alice tries to change what odile replied to
    result = await edit(gql, alice.token, question["id"], body="Something else entirely.")

    # Then EDIT_WINDOW_CLOSED, and the question is as it was answered
    assert user_errors(result) == [(["input", "questionId"], "EDIT_WINDOW_CLOSED")]
    assert (await gql(NODE, {"id": question["id"]}))["data"]["node"] == answered


async def test_a_closed_question_is_closed_to_edits_and_the_close_moved_updated_at(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role="MODERATOR")
    question = await asked(gql, alice.token, territory)
    closed = await close(gql, mona.token, question["id"])
    assert not closed.get("errors")

    row = await QuestionRow.get(id=pk_of(question["id"], "Question"))
    assert row.updated_at is not None
    result = await edit(gql, alice.token, question["id"], title="Reopen it by editing")
    assert user_errors(result) == [(["input", "questionId"], "EDIT_WINDOW_CLOSED")]


async def test_a_reply_committed_after_the_edits_checks_wins(gql, monkeypatch):
    """The edit's UPDATE repeats the window in its WHERE: a reply that commits between the
    edit's read and its write closes the window. Simulated by answering the question in the
    database right after the author check, when the edit already holds the row as OPEN;
    without the WHERE the title would change under the reply."""
    territory = await make_territory()
    alice = await make_person("alice", territory)
    question = await asked(gql, alice.token, territory)
    pk = pk_of(question["id"], "Question")
    real_check = resolvers.editing.check_may_edit

    async def check_then_answered(*args: Any) -> Any:
        member = await real_check(*args)
        await QuestionRow.filter(id=pk).update(status="ANSWERED")
        return member

    monkeypatch.setattr(resolvers.editing, "check_may_edit", check_then_answered)
    result = await edit(gql, alice.token, question["id"], title="Too late?")

    assert user_errors(result) == [(["input", "questionId"], "EDIT_WINDOW_CLOSED")]
    assert (await QuestionRow.get(id=pk)).title == question["title"]


def question_titles(result: dict[str, Any]) -> list[str]:
    assert not result.get("errors"), result
    return [edge["node"]["title"] for edge in result["data"]["territory"]["questions"]["edges"]]
