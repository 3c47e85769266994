"""closeQuestion: moderators and admins close unanswered questions with a public reason."""

from __future__ import annotations

from models.accounts import Role
from models.questions import Question as QuestionRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.questions.stories import NODE, asked, close, pk_of, reply, top_code


async def town():
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    return territory, alice, odile, mona, adam


async def unchanged(question_id: str) -> tuple[str, str | None]:
    row = await QuestionRow.get(id=pk_of(question_id, "Question"))
    return row.status.value, row.closed_reason


async def test_mona_closes_a_duplicate_with_a_public_reason(gql):
    territory, alice, odile, mona, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    result = await close(gql, mona.token, question["id"], "  Duplicate of last week's question.  ")

    payload = result["data"]["closeQuestion"]
    assert payload["userErrors"] == []
    assert payload["question"]["status"] == "CLOSED"
    assert payload["question"]["closedReason"] == "Duplicate of last week's question."
    assert payload["question"]["overdue"] is False
    # everyone sees why
    node = (await gql(NODE, {"id": question["id"]}))["data"]["node"]
    assert (node["status"], node["closedReason"]) == ("CLOSED", "Duplicate of last week's question.")


async def test_an_admin_may_close_too(gql):
    territory, alice, _, _, adam = await town()
    question = await asked(gql, alice.token, territory)

    payload = (await close(gql, adam.token, question["id"]))["data"]["closeQuestion"]

    assert payload["userErrors"] == []
    assert payload["question"]["status"] == "CLOSED"


async def test_citizens_officials_and_other_moderators_may_not_close(gql):
    territory, alice, odile, _, _ = await town()
    elsewhere = await make_territory()
    max_ = await make_person("max", elsewhere, role=Role.MODERATOR)
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)

    for persona in (alice, odile, max_):
        assert top_code(await close(gql, persona.token, question["id"])) == "FORBIDDEN"
    assert top_code(await close(gql, None, question["id"])) == "UNAUTHENTICATED"
    assert await unchanged(question["id"]) == ("OPEN", None)


async def test_an_answered_question_cannot_be_closed(gql):
    territory, alice, odile, mona, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    assert (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]["userErrors"] == []

    payload = (await close(gql, mona.token, question["id"]))["data"]["closeQuestion"]

    assert payload["question"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "questionId"])
    ]
    assert await unchanged(question["id"]) == ("ANSWERED", None)


async def test_a_closed_question_stays_closed_with_its_first_reason(gql):
    territory, alice, _, mona, adam = await town()
    question = await asked(gql, alice.token, territory)
    await close(gql, mona.token, question["id"], "Out of scope.")

    payload = (await close(gql, adam.token, question["id"], "Another reason."))["data"]["closeQuestion"]

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "questionId"])
    ]
    assert await unchanged(question["id"]) == ("CLOSED", "Out of scope.")


async def test_the_reason_is_required_and_bounded(gql):
    territory, alice, _, mona, _ = await town()
    question = await asked(gql, alice.token, territory)

    for reason in ("   ", "r" * 2001):
        payload = (await close(gql, mona.token, question["id"], reason))["data"]["closeQuestion"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID", ["input", "reason"])
        ]
    assert await unchanged(question["id"]) == ("OPEN", None)
    payload = (await close(gql, mona.token, question["id"], "r" * 2000))["data"]["closeQuestion"]
    assert payload["userErrors"] == []


async def test_an_unknown_question_is_not_found(gql):
    _, _, _, mona, _ = await town()

    for question_id in (encode_id("Question", 2**31 - 1), mona.member_gid, "nope"):
        payload = (await close(gql, mona.token, question_id))["data"]["closeQuestion"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "questionId"])
        ]
