"""Attacks on the day-one additions: editing what is not yours, editing what a moderator
hid, learning from a permission hint whether someone else voted, and tampered cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from reads.paging import encode_cursor
from tests.factories import make_person
from tests.ideas.stories import proposed, support
from tests.ideas.test_edit_idea import edit as edit_idea
from tests.polls.stories import created, option_ids, town, vote
from tests.questions.stories import asked, pk_of, reply
from tests.questions.test_edit import edit as edit_question
from tests.test_permission_hints import CAN_VOTE, hint


def codes(result: dict[str, Any], mutation: str) -> list[str]:
    if result.get("errors"):
        return [error["extensions"]["code"] for error in result["errors"]]
    return [error["code"] for error in result["data"][mutation]["userErrors"]]


async def test_bob_cannot_edit_alices_question_or_idea(gql):
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    idea = await proposed(gql, t.alice.token, t.territory)

    # Another citizen, a moderator, the admin, an outsider and nobody: none may edit
    outsider = await make_person("otto")
    for token, expected in (
        (t.bob.token, ["FORBIDDEN"]), (t.mona.token, ["FORBIDDEN"]), (t.adam.token, ["FORBIDDEN"]),
        (outsider.token, ["FORBIDDEN"]), (None, ["UNAUTHENTICATED"]),
    ):
        assert codes(await edit_question(gql, token, question["id"], title="Pwned"), "editQuestion") == expected
        assert codes(await edit_idea(gql, token, idea["id"], title="Pwned"), "editIdea") == expected

    assert (await QuestionRow.get(id=pk_of(question["id"], "Question"))).title == question["title"]
    assert (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).title == idea["title"]


async def test_hidden_content_cannot_be_edited_and_others_cannot_even_find_it(gql):
    # Given alice's question and idea that a moderator hid
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    idea = await proposed(gql, t.alice.token, t.territory)
    await QuestionRow.filter(id=pk_of(question["id"], "Question")).update(hidden=True)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)

    # Then alice may not edit them back into view (the window closed on hiding)
    assert codes(await edit_question(gql, t.alice.token, question["id"], title="Clean now"), "editQuestion") == [
        "EDIT_WINDOW_CLOSED"
    ]
    assert codes(await edit_idea(gql, t.alice.token, idea["id"], title="Clean now"), "editIdea") == [
        "EDIT_WINDOW_CLOSED"
    ]
    # And bob, who cannot see them, is told they do not exist (not FORBIDDEN, which would confirm them)
    assert codes(await edit_question(gql, t.bob.token, question["id"], title="x"), "editQuestion") == ["NOT_FOUND"]
    assert codes(await edit_idea(gql, t.bob.token, idea["id"], title="x"), "editIdea") == ["NOT_FOUND"]
    # A moderator sees them, and is still not their author
    assert codes(await edit_question(gql, t.mona.token, question["id"], title="x"), "editQuestion") == ["FORBIDDEN"]
    assert (await QuestionRow.get(id=pk_of(question["id"], "Question"))).title == question["title"]
    assert (await IdeaRow.get(id=pk_of(idea["id"], "Idea"))).title == idea["title"]


async def test_the_vote_hint_says_nothing_of_anyone_elses_ballot(gql):
    """viewerCanVote is the viewer's own answer: bob reads the same before and after alice
    votes (a hint computed from the poll's participations, not bob's, would flip)."""
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    before = {p.token: await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], p.token) for p in (t.bob, t.mona)}
    anonymous_before = await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], None)

    await vote(gql, t.alice.token, poll["id"], option_ids(poll)[0])

    assert all(answer == {"allowed": True, "reason": None} for answer in before.values())
    for token, answer in before.items():
        assert await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], token) == answer
    assert await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], None) == anonymous_before
    assert await hint(gql, CAN_VOTE, "viewerCanVote", poll["id"], t.alice.token) == {
        "allowed": False, "reason": "ALREADY_VOTED"
    }


TAMPERED_PAGE = """
query($slug: String!, $orderBy: QuestionOrder, $after: String) {
  territory(slug: $slug) { questions(orderBy: $orderBy, first: 5, after: $after) { edges { node { title } } } }
}
"""


def raw_cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_tampered_cursors_are_refused_or_name_no_row_never_a_500(gql):
    # Given a territory with a hidden question
    t = await town()
    visible = await asked(gql, t.alice.token, t.territory, title="Visible")
    hidden = await asked(gql, t.alice.token, t.territory, title="Hidden")
    await QuestionRow.filter(id=pk_of(hidden["id"], "Question")).update(hidden=True)

    refused = [
        ("MOST_OVERDUE", encode_cursor([0, 1], "most_overdue")),  # too short
        ("MOST_OVERDUE", raw_cursor({"o": "most_overdue", "k": ["0", "1", "2"]})),  # not integers
        ("MOST_OVERDUE", raw_cursor({"o": "most_overdue", "k": [0, 1, 2], "x": 1})),  # extra key
        ("MOST_OVERDUE", encode_cursor([0, 1, 2], "oldest")),  # another order's tag
        ("OLDEST", encode_cursor([pk_of(visible["id"], "Question")])),  # NEWEST's (untagged) form
        ("NEWEST", encode_cursor([1], "oldest")),
        ("OLDEST", raw_cursor({"o": "oldest", "k": [True]})),
        # Out of the keys' range: the database could not even compare them (a 500 on PostgreSQL)
        ("MOST_OVERDUE", encode_cursor([0, 2**40, 2**40], "most_overdue")),
        ("MOST_OVERDUE", encode_cursor([0, 2**64, 1], "most_overdue")),
        ("OLDEST", encode_cursor([2**40], "oldest")),
        ("NEWEST", encode_cursor([2**40])),
        ("NEWEST", encode_cursor([-(2**40)])),
    ]
    for order, cursor in refused:
        result = await gql(TAMPERED_PAGE, {"slug": t.territory.slug, "orderBy": order, "after": cursor})
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (order, cursor)

    # Well-formed cursors with any values only move the window: never a hidden question, never a 500
    for order, cursor in (
        ("MOST_OVERDUE", encode_cursor([-1, -(2**40), 0], "most_overdue")),
        ("MOST_OVERDUE", encode_cursor([0, 2**40, 2**31 - 1], "most_overdue")),
        ("OLDEST", encode_cursor([0], "oldest")),
        ("NEWEST", encode_cursor([2**31 - 1])),
    ):
        result = await gql(TAMPERED_PAGE, {"slug": t.territory.slug, "orderBy": order, "after": cursor})
        assert not result.get("errors"), (order, result)
        assert "Hidden" not in [e["node"]["title"] for e in result["data"]["territory"]["questions"]["edges"]]


MY_HIDDEN_HINTS = """
{ viewer {
  questions(first: 5) { edges { node { id hidden viewerCanReply { allowed reason } } } }
  ideas(first: 5) { edges { node { id hidden viewerCanSupport { allowed reason } } } }
} }
"""


async def test_hints_on_my_hidden_content_say_what_the_mutations_say(gql):
    """The author lists her hidden question and idea (Viewer.questions, Viewer.ideas), yet may
    not act on them: the hints answer NOT_FOUND as supportIdea and replyToQuestion do (a hint
    read from the row without the visibility rule would say allowed)."""
    t = await town()
    odile_asked = await asked(gql, t.odile.token, t.territory, title="Asked by an official")
    idea = await proposed(gql, t.odile.token, t.territory)
    await QuestionRow.filter(id=pk_of(odile_asked["id"], "Question")).update(hidden=True)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)

    mine = (await gql(MY_HIDDEN_HINTS, token=t.odile.token))["data"]["viewer"]
    [question_edge] = mine["questions"]["edges"]
    [idea_edge] = mine["ideas"]["edges"]
    not_found = {"allowed": False, "reason": "NOT_FOUND"}
    assert question_edge["node"]["hidden"] and idea_edge["node"]["hidden"]
    assert question_edge["node"]["viewerCanReply"] == not_found
    assert idea_edge["node"]["viewerCanSupport"] == not_found
    assert codes(await reply(gql, t.odile.token, odile_asked["id"]), "replyToQuestion") == ["NOT_FOUND"]
    assert codes(await support(gql, t.odile.token, idea["id"]), "supportIdea") == ["NOT_FOUND"]
