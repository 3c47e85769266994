"""editIdea: alice reworks her own idea until the territory starts reviewing it."""

from __future__ import annotations

from typing import Any

from events.envelopes import territory_channel
from models.accounts import Role
from tests.factories import make_person, make_territory
from tests.ideas.stories import NODE, idea_row, pk_of, proposed, set_status
from tests.polls.stories import published
from tests.questions.stories import parse

EDIT = """
mutation Edit($input: EditIdeaInput!) {
  editIdea(input: $input) {
    idea { id title body status createdAt updatedAt }
    userErrors { field message code }
  }
}
"""


async def edit(gql: Any, token: str | None, idea_id: str, **changes: Any) -> dict[str, Any]:
    return await gql(EDIT, {"input": {"ideaId": idea_id, **changes}}, token=token)  # type: ignore[no-any-return]


def user_errors(result: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert not result.get("errors"), result
    return [(e["field"], e["code"]) for e in result["data"]["editIdea"]["userErrors"]]


async def test_alice_reworks_her_submitted_idea(gql, app_broker):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)

    async with published(app_broker, territory_channel(territory.id)) as events:
        result = await edit(gql, alice.token, idea["id"], body="Let neighbours grow vegetables, with a tool shed.")

    assert user_errors(result) == []
    edited = result["data"]["editIdea"]["idea"]
    assert edited["title"] == idea["title"]
    assert edited["body"] == "Let neighbours grow vegetables, with a tool shed."
    assert parse(edited["updatedAt"]) > parse(idea["createdAt"])
    assert [(e.type, e.data) for e in events] == [("edited", {"kind": "Idea", "id": pk_of(idea["id"], "Idea")})]
    assert (await gql(NODE, {"id": idea["id"]}))["data"]["node"]["body"] == edited["body"]


async def test_once_under_review_the_idea_is_closed_to_edits_and_the_review_moved_updated_at(gql):
    # Given alice's idea that odile put under review
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory)
    reviewed = await set_status(gql, odile.token, idea["id"], "UNDER_REVIEW")
    assert not reviewed.get("errors") and reviewed["data"]["setIdeaStatus"]["userErrors"] == []
    moved = (await idea_row(idea["id"])).updated_at
    assert moved is not None

    # When alice edits it
    result = await edit(gql, alice.token, idea["id"], title="Something else")

    # Then EDIT_WINDOW_CLOSED, and nothing changed
    assert user_errors(result) == [(["input", "ideaId"], "EDIT_WINDOW_CLOSED")]
    row = await idea_row(idea["id"])
    assert (row.title, row.updated_at) == (idea["title"], moved)


async def test_an_idea_edit_is_validated_as_proposing_is(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    idea = await proposed(gql, alice.token, territory)

    result = await edit(gql, alice.token, idea["id"], title="t" * 201)

    assert user_errors(result) == [(["input", "title"], "INVALID")]
    assert (await idea_row(idea["id"])).title == idea["title"]
