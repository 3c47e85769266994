"""Viewer's lists ("my activity"): questions, ideas and comments with hidden items included for
their author; votes (never the choice), supports and follows of what the viewer may see."""

from __future__ import annotations

from models.accounts import Member
from models.comments import Comment as CommentRow
from models.ideas import Idea as IdeaRow
from models.polls import Poll as PollRow
from models.questions import Question as QuestionRow
from tests.factories import make_person, make_territory
from tests.ideas.stories import proposed, support
from tests.polls.stories import created, option_ids, town, voted
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


ACTIVITY = """
query($first: Int, $after: String) {
  viewer {
    comments(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id body hidden subject { __typename id } } }
    }
    votes(first: 10) { totalCount edges { node { poll { id question viewerHasVoted } } } }
    supports(first: 10) { totalCount edges { node { supportedAt idea { id title viewerSupports } } } }
    follows(first: 10) { totalCount edges { node { followedAt subject { __typename id } } } }
  }
}
"""

COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } userErrors { code } } }"""
FOLLOW = """mutation($input: FollowInput!) { follow(input: $input) { following userErrors { code } } }"""


async def commented(gql, token, subject_id, body):  # type: ignore[no-untyped-def]
    answer = await gql(COMMENT, {"input": {"subjectId": subject_id, "body": body}}, token=token)
    assert answer["data"]["addComment"]["userErrors"] == [], answer
    return answer["data"]["addComment"]["comment"]["id"]


async def followed(gql, token, subject_id):  # type: ignore[no-untyped-def]
    answer = await gql(FOLLOW, {"input": {"subjectId": subject_id}}, token=token)
    assert answer["data"]["follow"] == {"following": True, "userErrors": []}, answer


def nodes(connection):  # type: ignore[no-untyped-def]
    return [edge["node"] for edge in connection["edges"]]


async def test_alice_reads_her_comments_votes_supports_and_follows_newest_first(gql):
    # Given bob's question and three ideas, odile's three polls, in alice's town
    t = await town()
    question = await asked(gql, t.bob.token, t.territory, title="Bus at night?")
    garden, bench, wall = [await proposed(gql, t.bob.token, t.territory, title=title)
                           for title in ("Garden", "Bench", "Wall")]
    polls = [await created(gql, t.odile.token, t.gid, question=f"Poll {i}") for i in range(3)]
    # And alice's activity: she comments on the question, the garden and the wall
    on_question = await commented(gql, t.alice.token, question["id"], "me too")
    on_garden = await commented(gql, t.alice.token, garden["id"], "yes please")
    await commented(gql, t.alice.token, wall["id"], "about the wall")
    # she votes in the three polls, supports the garden, the wall and the bench (in that order)
    for poll in polls:
        await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    for idea in (garden, wall, bench):
        assert not (await support(gql, t.alice.token, idea["id"])).get("errors")
    # and follows the question, the wall and the first poll
    for subject in (question, wall, polls[0]):
        await followed(gql, t.alice.token, subject["id"])
    # When a moderator hides her comment on the garden, the wall and the second poll
    await CommentRow.filter(id=pk_of(on_garden, "Comment")).update(hidden=True)
    await IdeaRow.filter(id=pk_of(wall["id"], "Idea")).update(hidden=True)
    await PollRow.filter(id=pk_of(polls[1]["id"], "Poll")).update(hidden=True)

    # Then her comments page newest first, her hidden one marked, the one on the hidden wall left out
    page = (await gql(ACTIVITY, {"first": 1}, token=t.alice.token))["data"]["viewer"]
    assert page["comments"]["totalCount"] == 2 and page["comments"]["pageInfo"]["hasNextPage"]
    assert nodes(page["comments"]) == [
        {"id": on_garden, "body": "yes please", "hidden": True, "subject": {"__typename": "Idea", "id": garden["id"]}},
    ]
    after = page["comments"]["pageInfo"]["endCursor"]
    rest = (await gql(ACTIVITY, {"first": 1, "after": after}, token=t.alice.token))["data"]["viewer"]["comments"]
    assert nodes(rest) == [
        {"id": on_question, "body": "me too", "hidden": False,
         "subject": {"__typename": "Question", "id": question["id"]}},
    ]
    assert rest["pageInfo"]["hasNextPage"] is False
    # And the polls she voted in, newest vote first, without the hidden one, never a choice
    assert page["votes"]["totalCount"] == 2
    assert nodes(page["votes"]) == [
        {"poll": {"id": polls[2]["id"], "question": "Poll 2", "viewerHasVoted": True}},
        {"poll": {"id": polls[0]["id"], "question": "Poll 0", "viewerHasVoted": True}},
    ]
    # And the ideas she supports, newest support first, with when, without the hidden wall
    supports = nodes(page["supports"])
    assert [(s["idea"]["title"], s["idea"]["viewerSupports"]) for s in supports] == [("Bench", True), ("Garden", True)]
    assert page["supports"]["totalCount"] == 2
    assert supports[0]["supportedAt"] >= supports[1]["supportedAt"]
    # And what she follows, newest first, the hidden wall left out
    assert [(f["subject"]["__typename"], f["subject"]["id"]) for f in nodes(page["follows"])] == [
        ("Poll", polls[0]["id"]), ("Question", question["id"]),
    ]
    assert page["follows"]["totalCount"] == 2

    # While a moderator of the town sees nothing of hers in their own lists
    mona = (await gql(ACTIVITY, {"first": 10}, token=t.mona.token))["data"]["viewer"]
    assert [mona[name]["totalCount"] for name in ("comments", "votes", "supports", "follows")] == [0, 0, 0, 0]
    # And once the wall is restored, her comment, support and follow of it come back
    await IdeaRow.filter(id=pk_of(wall["id"], "Idea")).update(hidden=False)
    again = (await gql(ACTIVITY, {"first": 10}, token=t.alice.token))["data"]["viewer"]
    assert [again[name]["totalCount"] for name in ("comments", "votes", "supports", "follows")] == [3, 2, 3, 3]


async def test_a_staff_member_lists_what_they_took_part_in_even_once_hidden(gql):
    # Given mona the moderator who commented on an idea and supports it, then hid it
    t = await town()
    idea = await proposed(gql, t.bob.token, t.territory, title="Garden")
    await commented(gql, t.mona.token, idea["id"], "I moderate this")
    assert not (await support(gql, t.mona.token, idea["id"])).get("errors")
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)
    # When she reads her activity
    mine = (await gql(ACTIVITY, {"first": 10}, token=t.mona.token))["data"]["viewer"]
    # Then she still sees it: moderators see the hidden content of their territory
    assert [c["subject"]["id"] for c in nodes(mine["comments"])] == [idea["id"]]
    assert [s["idea"]["id"] for s in nodes(mine["supports"])] == [idea["id"]]


async def test_an_anonymous_visitor_has_no_activity(gql):
    answer = await gql(ACTIVITY, {"first": 10})
    assert answer["data"]["viewer"] is None
