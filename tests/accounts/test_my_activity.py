"""Viewer.questions and Viewer.ideas: "my activity", hidden items included for their author."""

from __future__ import annotations

from models.accounts import Member
from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed
from tests.questions.stories import asked, pk_of

MINE = """
query($first: Int, $after: String) {
  viewer {
    questions(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id title hidden } }
    }
    ideas(first: $first) { totalCount edges { node { id title hidden } } }
  }
}
"""


async def test_alice_sees_all_she_wrote_newest_first_hidden_included_and_nobody_elses(gql):
    # Given alice's questions in two territories (one hidden by a moderator), her idea, and bob's question
    here, there = await make_territory(), await make_territory()
    alice = await make_person("alice", here)
    bob = await make_person("bob", here)
    await Member.create(account_id=alice.account.id, territory_id=there.id)
    first = await asked(gql, alice.token, here, title="First")
    second = await asked(gql, alice.token, there, title="Second")
    third = await asked(gql, alice.token, here, title="Third")
    await QuestionRow.filter(id=pk_of(second["id"], "Question")).update(hidden=True)
    idea = await proposed(gql, alice.token, here)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)
    await asked(gql, bob.token, here, title="Bob's")

    # When she pages through her activity two at a time
    page = (await gql(MINE, {"first": 2}, token=alice.token))["data"]["viewer"]
    rest = (await gql(MINE, {"first": 2, "after": page["questions"]["pageInfo"]["endCursor"]}, token=alice.token))

    # Then she sees her own questions, newest first, the hidden one included, and her hidden idea
    assert page["questions"]["totalCount"] == 3
    assert [e["node"]["id"] for e in page["questions"]["edges"]] == [third["id"], second["id"]]
    assert [e["node"]["hidden"] for e in page["questions"]["edges"]] == [False, True]  # marked as such
    assert [e["node"]["id"] for e in rest["data"]["viewer"]["questions"]["edges"]] == [first["id"]]
    assert [(e["node"]["id"], e["node"]["hidden"]) for e in page["ideas"]["edges"]] == [(idea["id"], True)]
    # While bob's activity holds only his, and the hidden question stays hidden from him elsewhere
    bobs = (await gql(MINE, {"first": 10}, token=bob.token))["data"]["viewer"]["questions"]
    assert [e["node"]["title"] for e in bobs["edges"]] == ["Bob's"]
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": second["id"]}, token=bob.token)
    assert node["data"]["node"] is None
