"""Hidden questions and replies (moderation) are seen by the territory's moderators and admins only."""

from __future__ import annotations

from models.accounts import Role
from models.comments import Comment as CommentRow
from models.questions import Question as QuestionRow
from models.questions import Reply as ReplyRow
from tests.factories import make_person, make_territory
from tests.questions.stories import NODE, OFFICIAL, TERRITORY_QUESTIONS, asked, close, pk_of, reply

COMMENTS = """
query Comments($id: ID!) {
  node(id: $id) {
    ... on Question { comments(first: 10) { totalCount edges { node { body author { id } } } } }
  }
}
"""


async def town():
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    return territory, alice, bob, odile, mona, adam


async def listed(gql, territory, token, **variables):
    result = await gql(TERRITORY_QUESTIONS, {"slug": territory.slug, **variables}, token=token)
    connection = result["data"]["territory"]["questions"]
    return [e["node"]["id"] for e in connection["edges"]], connection["totalCount"]


async def test_a_hidden_question_is_invisible_but_to_moderators_and_admins(gql):
    # Given alice's two questions to odile, one of which a moderator hid
    territory, alice, bob, odile, mona, adam = await town()
    shown = await asked(gql, alice.token, territory, official_id=odile.member_gid, title="Shown")
    hidden = await asked(gql, alice.token, territory, official_id=odile.member_gid, title="Hidden")
    await QuestionRow.filter(id=pk_of(hidden["id"], "Question")).update(hidden=True)

    # Then the public, bob, alice herself and odile see only the other one
    for token in (None, bob.token, alice.token, odile.token):
        assert await listed(gql, territory, token) == ([shown["id"]], 1)
        assert (await gql(NODE, {"id": hidden["id"]}, token=token))["data"]["node"] is None
        questions = (await gql(OFFICIAL, {"id": odile.member_gid}, token=token))["data"]["node"]["questions"]
        assert [e["node"]["id"] for e in questions["edges"]] == [shown["id"]]

    # And mona and adam see both
    for token in (mona.token, adam.token):
        assert await listed(gql, territory, token) == ([hidden["id"], shown["id"]], 2)
        assert (await gql(NODE, {"id": hidden["id"]}, token=token))["data"]["node"]["title"] == "Hidden"


async def test_a_hidden_question_cannot_be_answered_but_can_be_closed(gql):
    territory, alice, _, odile, mona, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    await QuestionRow.filter(id=pk_of(question["id"], "Question")).update(hidden=True)

    payload = (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_FOUND", ["input", "questionId"])
    ]
    assert await ReplyRow.filter(question_id=pk_of(question["id"], "Question")).count() == 0

    payload = (await close(gql, mona.token, question["id"], "Breaks the charter."))["data"]["closeQuestion"]
    assert payload["userErrors"] == []
    assert payload["question"]["status"] == "CLOSED"


async def test_a_hidden_reply_is_withheld_from_the_question(gql):
    territory, alice, bob, odile, mona, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    answer = (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]["reply"]
    await ReplyRow.filter(id=pk_of(answer["id"], "Reply")).update(hidden=True)

    for token in (None, bob.token, alice.token):
        node = (await gql(NODE, {"id": question["id"]}, token=token))["data"]["node"]
        assert node["status"] == "ANSWERED"
        assert node["reply"] is None
        assert (await gql(NODE, {"id": answer["id"]}, token=token))["data"]["node"] is None
    node = (await gql(NODE, {"id": question["id"]}, token=mona.token))["data"]["node"]
    assert node["reply"]["id"] == answer["id"]


async def test_a_reply_resolves_as_a_node_with_its_question(gql):
    territory, alice, _, odile, _, _ = await town()
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    answer = (await reply(gql, odile.token, question["id"], "Yes."))["data"]["replyToQuestion"]["reply"]

    node = (await gql(NODE, {"id": answer["id"]}))["data"]["node"]

    assert node == {
        "__typename": "Reply",
        "id": answer["id"],
        "body": "Yes.",
        "by": {"id": odile.member_gid},
        "question": {"id": question["id"]},
    }


async def test_questions_filter_by_status_and_official(gql):
    territory, alice, _, odile, mona, _ = await town()
    to_odile = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    to_all = await asked(gql, alice.token, territory)
    closed = await asked(gql, alice.token, territory)
    await reply(gql, odile.token, to_odile["id"])
    await close(gql, mona.token, closed["id"])

    assert await listed(gql, territory, None, status="ANSWERED") == ([to_odile["id"]], 1)
    assert await listed(gql, territory, None, status="OPEN") == ([to_all["id"]], 1)
    assert await listed(gql, territory, None, status="CLOSED") == ([closed["id"]], 1)
    assert await listed(gql, territory, None, officialId=odile.member_gid) == ([to_odile["id"]], 1)


async def test_a_questions_comments_hide_hidden_ones(gql):
    territory, alice, bob, _, mona, _ = await town()
    question = await asked(gql, alice.token, territory)
    pk = pk_of(question["id"], "Question")
    await CommentRow.create(
        territory_id=territory.id, author_id=bob.member.id, subject_type="Question", subject_id=pk,
        body="Same question here.",
    )
    await CommentRow.create(
        territory_id=territory.id, author_id=bob.member.id, subject_type="Question", subject_id=pk,
        body="Rude words.", hidden=True,
    )

    public = (await gql(COMMENTS, {"id": question["id"]}))["data"]["node"]["comments"]
    assert public["totalCount"] == 1
    assert [e["node"] for e in public["edges"]] == [
        {"body": "Same question here.", "author": {"id": bob.member_gid}}
    ]
    staff = (await gql(COMMENTS, {"id": question["id"]}, token=mona.token))["data"]["node"]["comments"]
    assert staff["totalCount"] == 2
