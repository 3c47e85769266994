"""Attacks on the day-one additions: editing what is not yours, editing what a moderator
hid, learning from a permission hint whether someone else voted, and tampered cursors."""

from __future__ import annotations

from typing import Any

from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from tests.factories import make_person
from tests.ideas.stories import proposed
from tests.ideas.test_edit_idea import edit as edit_idea
from tests.polls.stories import created, option_ids, town, vote
from tests.questions.stories import asked, pk_of
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
