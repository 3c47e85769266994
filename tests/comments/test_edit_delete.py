"""editComment and deleteComment: their author edits a comment for 15 minutes and deletes it
any time; a deleted comment keeps its place in the thread, its body gone; the hints say
beforehand what the mutations answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from events.envelopes import territory_channel
from models.comments import Comment as CommentRow
from schema.authorship import COMMENT_EDIT_WINDOW
from tests.news.stories import comment, events_on, pk_of
from tests.polls.stories import town
from tests.questions.stories import asked

EDIT = """
mutation Edit($input: EditCommentInput!) {
  editComment(input: $input) {
    comment { id body editedAt deletedAt updatedAt createdAt }
    userErrors { field code }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteCommentInput!) {
  deleteComment(input: $input) {
    comment { id body editedAt deletedAt }
    userErrors { field code }
  }
}
"""
THREAD = """
query Thread($id: ID!) {
  node(id: $id) {
    ... on Question {
      comments(first: 10) {
        edges { node {
          id body editedAt deletedAt
          viewerCanEdit { allowed reason } viewerCanDelete { allowed reason }
        } }
      }
    }
  }
}
"""


async def edit(gql: Any, token: str | None, comment_id: str, body: str) -> dict[str, Any]:
    return await gql(EDIT, {"input": {"commentId": comment_id, "body": body}}, token)  # type: ignore[no-any-return]


async def delete(gql: Any, token: str | None, comment_id: str) -> dict[str, Any]:
    return await gql(DELETE, {"input": {"commentId": comment_id}}, token)  # type: ignore[no-any-return]


def outcome(result: dict[str, Any], mutation: str) -> list[str]:
    """The codes a mutation answered: top-level ones, else its userErrors' (empty: done)."""
    if result.get("errors"):
        return [e["extensions"]["code"] for e in result["errors"]]
    return [e["code"] for e in result["data"][mutation]["userErrors"]]


def reason(result: dict[str, Any], mutation: str) -> list[str]:
    """As `outcome`, a top-level FORBIDDEN read as the role it names (extensions.reason):
    what a permission hint answers."""
    if result.get("errors"):
        return [e["extensions"].get("reason", e["extensions"]["code"]) for e in result["errors"]]
    return outcome(result, mutation)


async def thread(gql: Any, question_id: str, token: str | None) -> list[dict[str, Any]]:
    result = await gql(THREAD, {"id": question_id}, token)
    assert not result.get("errors"), result
    return [edge["node"] for edge in result["data"]["node"]["comments"]["edges"]]


async def written_ago(comment_id: str, ago: dt.timedelta) -> None:
    await CommentRow.filter(id=pk_of(comment_id)).update(created_at=dt.datetime.now(dt.UTC) - ago)


async def test_alice_fixes_her_comment_and_everyone_sees_it_was_edited(gql: Any, app_broker: Any) -> None:
    # Given alice's comment under bob's question
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "The bus runs at 7.")
    assert (await thread(gql, question["id"], None))[0]["editedAt"] is None

    # When she fixes it within the window
    async with events_on(app_broker, territory_channel(t.territory.id)) as heard:
        result = await edit(gql, t.alice.token, said["id"], "  The bus runs at 8.  ")

    # Then it says the new text, and shows when it was edited
    assert outcome(result, "editComment") == []
    edited = result["data"]["editComment"]["comment"]
    assert edited["body"] == "The bus runs at 8."
    assert edited["editedAt"] is not None and edited["deletedAt"] is None
    assert edited["updatedAt"] == edited["editedAt"]
    for token in (None, t.bob.token):  # the anonymous thread was read (and cached) before the edit
        shown = (await thread(gql, question["id"], token))[0]
        assert (shown["body"], shown["editedAt"]) == ("The bus runs at 8.", edited["editedAt"])
    # And the territory's channel heard of it, after commit, so live threads refresh
    assert [(e.type, e.data) for e in heard] == [("edited", {"kind": "Comment", "id": pk_of(said["id"])})]


async def test_the_edit_window_closes_after_fifteen_minutes(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "First thought.")

    # A comment written 14 minutes ago may still be edited
    await written_ago(said["id"], COMMENT_EDIT_WINDOW - dt.timedelta(minutes=1))
    assert (await thread(gql, question["id"], t.alice.token))[0]["viewerCanEdit"] == {"allowed": True, "reason": None}
    assert outcome(await edit(gql, t.alice.token, said["id"], "Second thought."), "editComment") == []

    # One written 16 minutes ago may not: the hint and the mutation agree, nothing changes
    await written_ago(said["id"], COMMENT_EDIT_WINDOW + dt.timedelta(minutes=1))
    hint = (await thread(gql, question["id"], t.alice.token))[0]["viewerCanEdit"]
    assert hint == {"allowed": False, "reason": "EDIT_WINDOW_CLOSED"}
    result = await edit(gql, t.alice.token, said["id"], "Third thought.")
    assert result["data"]["editComment"]["userErrors"] == [
        {"field": ["input", "commentId"], "code": "EDIT_WINDOW_CLOSED"}
    ]
    assert (await CommentRow.get(id=pk_of(said["id"]))).body == "Second thought."
    # Deleting has no window
    assert (await thread(gql, question["id"], t.alice.token))[0]["viewerCanDelete"] == {
        "allowed": True, "reason": None,
    }
    assert outcome(await delete(gql, t.alice.token, said["id"]), "deleteComment") == []


async def test_a_deleted_comment_keeps_its_place_without_its_body(gql: Any, app_broker: Any) -> None:
    # Given two comments under a question
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    first = await comment(gql, t.alice.token, question["id"], "Something I regret.")
    second = await comment(gql, t.bob.token, question["id"], "A reply to it.")
    assert [c["body"] for c in await thread(gql, question["id"], None)] == ["Something I regret.", "A reply to it."]

    # When alice deletes hers
    async with events_on(app_broker, territory_channel(t.territory.id)) as heard:
        result = await delete(gql, t.alice.token, first["id"])

    # Then the thread still has both, hers marked deleted and emptied, for every reader
    assert outcome(result, "deleteComment") == []
    assert result["data"]["deleteComment"]["comment"]["body"] == ""
    for token in (None, t.bob.token, t.mona.token):
        shown = await thread(gql, question["id"], token)
        assert [c["id"] for c in shown] == [first["id"], second["id"]]
        assert shown[0]["body"] == "" and shown[0]["deletedAt"] is not None
        assert shown[1]["body"] == "A reply to it." and shown[1]["deletedAt"] is None
    # And the text is gone from the database, not only from the API
    assert (await CommentRow.get(id=pk_of(first["id"]))).body == ""
    assert [(e.type, e.data) for e in heard] == [("deleted", {"kind": "Comment", "id": pk_of(first["id"])})]

    # And it can be neither deleted again nor edited back
    mine = (await thread(gql, question["id"], t.alice.token))[0]
    assert mine["viewerCanEdit"] == mine["viewerCanDelete"] == {"allowed": False, "reason": "ALREADY_DELETED"}
    assert outcome(await delete(gql, t.alice.token, first["id"]), "deleteComment") == ["ALREADY_DELETED"]
    assert outcome(await edit(gql, t.alice.token, first["id"], "Back!"), "editComment") == ["ALREADY_DELETED"]
    assert (await CommentRow.get(id=pk_of(first["id"]))).body == ""


async def test_hints_say_what_the_mutations_answer_for_every_persona(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Mine.")
    expected = {
        None: "UNAUTHENTICATED",
        t.bob.token: "NOT_THE_AUTHOR",
        t.mona.token: "NOT_THE_AUTHOR",
        t.adam.token: "NOT_THE_AUTHOR",
    }
    for token, code in expected.items():
        hint = (await thread(gql, question["id"], token))[0]
        assert hint["viewerCanEdit"] == hint["viewerCanDelete"] == {"allowed": False, "reason": code}
        edited = await edit(gql, token, said["id"], "Pwned")
        deleted = await delete(gql, token, said["id"])
        assert reason(edited, "editComment") == reason(deleted, "deleteComment") == [code]
        # Someone else's comment: the contract's top-level FORBIDDEN, naming why
        top = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
        assert outcome(edited, "editComment") == outcome(deleted, "deleteComment") == [top]
    row = await CommentRow.get(id=pk_of(said["id"]))
    assert (row.body, row.deleted_at, row.edited_at) == ("Mine.", None, None)
    hint = (await thread(gql, question["id"], t.alice.token))[0]
    assert hint["viewerCanEdit"] == hint["viewerCanDelete"] == {"allowed": True, "reason": None}
