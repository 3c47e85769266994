"""deleteQuestion / deleteIdea, editedAt, and the human references (Q-2026-0042) with their
url paths: what phone support reads out, what a push or an email links to."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from events.envelopes import territory_channel
from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed, set_status
from tests.ideas.test_edit_idea import edit as edit_idea
from tests.news.stories import events_on
from tests.polls.stories import town
from tests.questions.stories import asked, pk_of, reply
from tests.questions.test_edit import edit as edit_question

YEAR = dt.datetime.now(dt.UTC).year

DELETE_QUESTION = """
mutation($input: DeleteQuestionInput!) {
  deleteQuestion(input: $input) { question { id deletedAt hidden } userErrors { field code } }
}
"""
DELETE_IDEA = """
mutation($input: DeleteIdeaInput!) {
  deleteIdea(input: $input) { idea { id deletedAt hidden } userErrors { field code } }
}
"""
SHOWN = """
query($id: ID!, $slug: String!, $ref: String!) {
  node(id: $id) { ... on Question { id reference url editedAt deletedAt
    viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } } }
  territory(slug: $slug) {
    questionByReference(reference: $ref) { id }
    questions(first: 20) { edges { node { id reference } } }
  }
  viewer { questions(first: 20) { edges { node { id } } } }
}
"""
IDEA_SHOWN = """
query($id: ID!, $slug: String!, $ref: String!) {
  node(id: $id) { ... on Idea { id reference url editedAt deletedAt
    viewerCanEdit { allowed reason } viewerCanDelete { allowed reason } } }
  territory(slug: $slug) {
    ideaByReference(reference: $ref) { id }
    ideas(first: 20) { edges { node { id reference } } }
  }
}
"""


def codes(result: dict[str, Any], mutation: str) -> list[str]:
    if result.get("errors"):
        return [e["extensions"]["code"] for e in result["errors"]]
    return [e["code"] for e in result["data"][mutation]["userErrors"]]


async def delete_question(gql: Any, token: str | None, question_id: str) -> dict[str, Any]:
    return await gql(DELETE_QUESTION, {"input": {"questionId": question_id}}, token)  # type: ignore[no-any-return]


async def delete_idea(gql: Any, token: str | None, idea_id: str) -> dict[str, Any]:
    return await gql(DELETE_IDEA, {"input": {"ideaId": idea_id}}, token)  # type: ignore[no-any-return]


async def shown(gql: Any, token: str | None, slug: str, question: dict[str, Any], ref: str) -> dict[str, Any]:
    result = await gql(SHOWN, {"id": question["id"], "slug": slug, "ref": ref}, token)
    assert not result.get("errors"), result
    return result["data"]  # type: ignore[no-any-return]


async def test_questions_and_ideas_get_references_per_territory_and_year(gql: Any) -> None:
    # Given two territories where people ask and propose
    t = await town()
    other = await make_territory(slug="narbonne")
    otto = await make_person("otto", other)
    first = await asked(gql, t.alice.token, t.territory)
    second = await asked(gql, t.bob.token, t.territory)
    elsewhere = await asked(gql, otto.token, other)
    idea = await proposed(gql, t.alice.token, t.territory)

    # Then each territory numbers its own, per kind, from 1 in the year they were written
    refs = [
        (await QuestionRow.get(id=pk_of(q["id"], "Question"))).reference for q in (first, second, elsewhere)
    ]
    assert refs == [f"Q-{YEAR}-0001", f"Q-{YEAR}-0002", f"Q-{YEAR}-0001"]
    assert (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).reference == f"I-{YEAR}-0001"

    # And the API gives the reference and the deep-link path, and finds the question back by it
    data = await shown(gql, None, t.territory.slug, second, f" q-{YEAR}-0002 ")
    assert data["node"]["reference"] == f"Q-{YEAR}-0002"
    assert data["node"]["url"] == f"/t/{t.territory.slug}/questions/Q-{YEAR}-0002"
    assert data["territory"]["questionByReference"] == {"id": second["id"]}
    # Another territory's reference, or none, finds nothing
    assert (await shown(gql, None, other.slug, second, f"Q-{YEAR}-0002"))["territory"]["questionByReference"] is None
    assert (await shown(gql, None, t.territory.slug, second, "Q-1999-0001"))["territory"]["questionByReference"] is None
    assert (await shown(gql, None, t.territory.slug, second, "x" * 500))["territory"]["questionByReference"] is None
    result = await gql(IDEA_SHOWN, {"id": idea["id"], "slug": t.territory.slug, "ref": f"I-{YEAR}-0001"})
    assert not result.get("errors"), result
    assert result["data"]["node"]["url"] == f"/t/{t.territory.slug}/ideas/I-{YEAR}-0001"
    assert result["data"]["territory"]["ideaByReference"] == {"id": idea["id"]}

    # And a number once given is never given again, even after its question is deleted
    assert codes(await delete_question(gql, t.bob.token, second["id"]), "deleteQuestion") == []
    third = await asked(gql, t.alice.token, t.territory)
    assert (await QuestionRow.get(id=pk_of(third["id"], "Question"))).reference == f"Q-{YEAR}-0003"


async def test_an_edited_question_says_so(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    ref = f"Q-{YEAR}-0001"
    assert (await shown(gql, t.alice.token, t.territory.slug, question, ref))["node"]["editedAt"] is None
    result = await edit_question(gql, t.alice.token, question["id"], title="When will line 4 run on Sundays?")
    assert codes(result, "editQuestion") == []
    assert (await shown(gql, None, t.territory.slug, question, ref))["node"]["editedAt"] is not None
    # A status change moves updatedAt, not editedAt
    idea = await proposed(gql, t.alice.token, t.territory)
    assert not (await set_status(gql, t.odile.token, idea["id"], "UNDER_REVIEW")).get("errors")
    assert (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).edited_at is None


async def test_alice_deletes_her_unanswered_question_and_it_leaves_every_list(gql: Any, app_broker: Any) -> None:
    # Given alice's question, seen by everyone
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    ref = f"Q-{YEAR}-0001"
    before = await shown(gql, t.alice.token, t.territory.slug, question, ref)
    assert before["node"]["viewerCanDelete"] == {"allowed": True, "reason": None}
    anonymous = await shown(gql, None, t.territory.slug, question, ref)  # cached, shared pages filled
    assert anonymous["territory"]["questionByReference"] == {"id": question["id"]}

    # When she deletes it
    async with events_on(app_broker, territory_channel(t.territory.id)) as heard:
        result = await delete_question(gql, t.alice.token, question["id"])
    assert codes(result, "deleteQuestion") == []
    assert result["data"]["deleteQuestion"]["question"]["deletedAt"] is not None
    assert [(e.type, e.data) for e in heard] == [
        ("deleted", {"kind": "Question", "id": pk_of(question["id"], "Question")})
    ]

    # Then it is gone for everyone but the territory's staff: lists, node, reference, her own list
    for token in (None, t.alice.token, t.bob.token, t.odile.token):
        data = await shown(gql, token, t.territory.slug, question, ref)
        assert data["node"] is None
        assert data["territory"]["questionByReference"] is None
        assert data["territory"]["questions"]["edges"] == []
        if token is not None:
            assert data["viewer"]["questions"]["edges"] == []
    staff = await shown(gql, t.mona.token, t.territory.slug, question, ref)
    assert staff["node"]["deletedAt"] is not None
    assert staff["territory"]["questionByReference"] == {"id": question["id"]}

    # And deleting it again, or editing it, is refused
    assert codes(await delete_question(gql, t.alice.token, question["id"]), "deleteQuestion") == ["ALREADY_DELETED"]
    assert codes(await edit_question(gql, t.alice.token, question["id"], title="Back"), "editQuestion") == [
        "ALREADY_DELETED"
    ]


async def test_an_answered_question_and_a_reviewed_idea_stay(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    assert not (await reply(gql, t.odile.token, question["id"])).get("errors")
    data = await shown(gql, t.alice.token, t.territory.slug, question, f"Q-{YEAR}-0001")
    assert data["node"]["viewerCanDelete"] == {"allowed": False, "reason": "ALREADY_ANSWERED"}
    assert data["node"]["viewerCanEdit"] == {"allowed": False, "reason": "EDIT_WINDOW_CLOSED"}
    assert codes(await delete_question(gql, t.alice.token, question["id"]), "deleteQuestion") == ["ALREADY_ANSWERED"]
    assert (await QuestionRow.get(id=pk_of(question["id"], "Question"))).deleted_at is None

    idea = await proposed(gql, t.alice.token, t.territory)
    fresh = await gql(IDEA_SHOWN, {"id": idea["id"], "slug": t.territory.slug, "ref": "-"}, t.alice.token)
    assert fresh["data"]["node"]["viewerCanDelete"] == {"allowed": True, "reason": None}
    assert not (await set_status(gql, t.odile.token, idea["id"], "UNDER_REVIEW")).get("errors")
    result = await gql(IDEA_SHOWN, {"id": idea["id"], "slug": t.territory.slug, "ref": "-"}, t.alice.token)
    assert result["data"]["node"]["viewerCanDelete"] == {"allowed": False, "reason": "ALREADY_REVIEWED"}
    assert result["data"]["node"]["viewerCanEdit"] == {"allowed": False, "reason": "EDIT_WINDOW_CLOSED"}
    assert codes(await delete_idea(gql, t.alice.token, idea["id"]), "deleteIdea") == ["ALREADY_REVIEWED"]
    assert codes(await edit_idea(gql, t.alice.token, idea["id"], title="Changed"), "editIdea") == [
        "EDIT_WINDOW_CLOSED"
    ]
    assert (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).deleted_at is None


async def test_alice_deletes_her_idea_before_review(gql: Any) -> None:
    t = await town()
    idea = await proposed(gql, t.alice.token, t.territory)
    result = await delete_idea(gql, t.alice.token, idea["id"])
    assert codes(result, "deleteIdea") == []
    data = await gql(IDEA_SHOWN, {"id": idea["id"], "slug": t.territory.slug, "ref": f"I-{YEAR}-0001"}, t.bob.token)
    assert data["data"]["node"] is None
    assert data["data"]["territory"]["ideaByReference"] is None
    assert data["data"]["territory"]["ideas"]["edges"] == []
    row = await IdeaRow.get(id=pk_of(idea["id"], "Idea"))
    assert row.deleted_at is not None and row.hidden


async def test_questions_asked_at_once_each_take_their_own_number(gql: Any) -> None:
    """The counter row is moved by an UPDATE that locks it: concurrent askQuestion in one
    territory (on PostgreSQL, really at once; the first of a year also races to create the
    counter) get distinct, consecutive references."""
    territory = await make_territory()
    people = [await make_person(f"p{i}", territory) for i in range(6)]
    questions = await asyncio.gather(*(asked(gql, p.token, territory) for p in people))
    refs = sorted([(await QuestionRow.get(id=pk_of(q["id"], "Question"))).reference for q in questions])
    assert refs == [f"Q-{YEAR}-{n:04d}" for n in range(1, 7)]
