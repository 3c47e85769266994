"""proposeIdea: any member proposes an idea to their territory, optionally for one of its projects."""

from __future__ import annotations

from models.accounts import Role
from models.ideas import Idea as IdeaRow
from models.projects import Project as ProjectRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.ideas.stories import idea_row, propose, proposed, territory_gid, top_code


async def make_project(territory, creator, *, hidden: bool = False) -> ProjectRow:
    return await ProjectRow.create(
        territory_id=territory.id, created_by_id=creator.member.id,
        title="Rail yard renewal", description="What becomes of the old rail yard.", hidden=hidden,
    )


async def test_alice_proposes_an_idea_and_it_starts_submitted_without_support(gql):
    # Given alice, a citizen of the territory
    territory = await make_territory()
    alice = await make_person("alice", territory)

    # When she proposes an idea
    idea = await proposed(gql, alice.token, territory, title="  A shared garden  ")

    # Then it is hers, submitted, trimmed, with no support and no project
    assert idea["title"] == "A shared garden"
    assert idea["status"] == "SUBMITTED"
    assert idea["statusNote"] is None
    assert idea["supportCount"] == 0
    assert idea["viewerSupports"] is False
    assert idea["author"] == {"id": alice.member_gid, "displayName": "Alice"}
    assert idea["territory"] == {"id": territory_gid(territory)}
    assert idea["project"] is None
    row = await idea_row(idea["id"])
    assert (row.territory_id, row.author_id, row.project_id) == (territory.id, alice.member.id, None)


async def test_alice_proposes_an_idea_for_a_project_of_her_territory(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    project = await make_project(territory, odile)

    idea = await proposed(gql, alice.token, territory, project_id=encode_id("Project", project.id))

    assert idea["project"] == {"id": encode_id("Project", project.id), "title": "Rail yard renewal"}
    assert (await idea_row(idea["id"])).project_id == project.id


async def test_a_project_of_another_territory_or_hidden_or_unknown_is_not_found(gql):
    # Given alice's territory, and a project elsewhere, a hidden project at home, and a bogus id
    territory = await make_territory()
    elsewhere = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    otto = await make_person("otto", elsewhere, role=Role.OFFICIAL)
    foreign = await make_project(elsewhere, otto)
    hidden = await make_project(territory, odile, hidden=True)

    for project_id in (
        encode_id("Project", foreign.id),
        encode_id("Project", hidden.id),
        encode_id("Idea", hidden.id),
        "not-an-id",
    ):
        # When she proposes an idea for it
        result = await propose(gql, alice.token, territory, project_id=project_id)

        # Then the project is not found and no idea was stored
        payload = result["data"]["proposeIdea"]
        assert payload["idea"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "projectId"])
        ]
    assert await IdeaRow.filter(territory_id=territory.id).count() == 0


async def test_title_and_body_are_checked_with_their_paths(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)

    result = await propose(gql, alice.token, territory, title="   ", body="x" * 20_001)

    payload = result["data"]["proposeIdea"]
    assert payload["idea"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "title"]),
        ("INVALID", ["input", "body"]),
    ]
    result = await propose(gql, alice.token, territory, title="t" * 201, body="Fine\x00body")
    assert [e["field"] for e in result["data"]["proposeIdea"]["userErrors"]] == [
        ["input", "title"],
        ["input", "body"],
    ]
    assert await IdeaRow.filter(territory_id=territory.id).count() == 0


async def test_anonymous_visitors_must_log_in(gql):
    territory = await make_territory()

    result = await propose(gql, None, territory)

    assert top_code(result) == "UNAUTHENTICATED"
    assert result["data"] is None
    assert await IdeaRow.filter(territory_id=territory.id).count() == 0


async def test_someone_who_has_not_joined_is_not_a_member(gql):
    territory = await make_territory()
    await make_person("alice", territory)
    bob = await make_person("bob", await make_territory())

    result = await propose(gql, bob.token, territory)

    payload = result["data"]["proposeIdea"]
    assert payload["idea"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_A_MEMBER"]
    assert await IdeaRow.filter(territory_id=territory.id).count() == 0


async def test_an_unknown_territory_is_not_found(gql):
    alice = await make_person("alice", await make_territory())

    for territory_id in (encode_id("Territory", 2**31 - 1), encode_id("Idea", 1), "garbage"):
        result = await gql(
            """mutation($input: ProposeIdeaInput!) { proposeIdea(input: $input) {
                 idea { id } userErrors { field code } } }""",
            {"input": {"territoryId": territory_id, "title": "T", "body": "B"}},
            token=alice.token,
        )
        assert result["data"]["proposeIdea"] == {
            "idea": None,
            "userErrors": [{"field": ["input", "territoryId"], "code": "NOT_FOUND"}],
        }
