"""addDocument: officials and admins of the project's territory add a document to it."""

from __future__ import annotations

from models.accounts import Role
from models.projects import Document as DocumentRow
from models.projects import Project as ProjectRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.projects.stories import add_document, created, pk_of, top_code


async def documents_of(project_id: str) -> list[str]:
    return await DocumentRow.filter(project_id=pk_of(project_id, "Project")).order_by("id").values_list(
        "title", flat=True
    )


async def test_adam_adds_the_minutes_to_odiles_project(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    project = await created(gql, odile.token, territory)

    result = await add_document(gql, adam.token, project["id"], title="  Minutes  ")

    payload = result["data"]["addDocument"]
    assert payload["userErrors"] == []
    assert [(d["title"], d["kind"]) for d in payload["project"]["documents"]] == [
        ("Budget 2027", "BUDGET"), ("Site plan", "MAP"), ("Minutes", "REPORT"),
    ]
    assert payload["project"]["budget"] == {"amount": "1250000.00", "currency": "EUR"}
    assert await documents_of(project["id"]) == ["Budget 2027", "Site plan", "Minutes"]


async def test_the_document_is_checked_with_its_path(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    project = await created(gql, odile.token, territory, documents=[])

    result = await add_document(gql, odile.token, project["id"], title="", url="file:///etc/passwd")

    payload = result["data"]["addDocument"]
    assert payload["project"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "document", "title"]),
        ("INVALID", ["input", "document", "url"]),
    ]
    assert await documents_of(project["id"]) == []


async def test_only_officials_and_admins_of_the_territory_may_add(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    otto = await make_person("otto", await make_territory(), role=Role.OFFICIAL)
    project = await created(gql, odile.token, territory, documents=[])

    assert top_code(await add_document(gql, None, project["id"])) == "UNAUTHENTICATED"
    for who in (alice, mona, otto):
        result = await add_document(gql, who.token, project["id"])
        assert top_code(result) == "FORBIDDEN"
        assert result["data"] is None
    assert await documents_of(project["id"]) == []


async def test_unknown_and_hidden_projects_are_not_found(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    project = await created(gql, odile.token, territory, documents=[])
    await ProjectRow.filter(id=pk_of(project["id"], "Project")).update(hidden=True)

    for project_id in (project["id"], encode_id("Project", 2**31 - 1), encode_id("Idea", 1), "x"):
        payload = (await add_document(gql, odile.token, project_id))["data"]["addDocument"]
        assert payload == {
            "project": None,
            "userErrors": [
                {"field": ["input", "projectId"], "message": "No such project.", "code": "NOT_FOUND"}
            ],
        }
    assert await documents_of(project["id"]) == []

    # The admin still sees the hidden project and may add to it
    assert (await add_document(gql, adam.token, project["id"]))["data"]["addDocument"]["userErrors"] == []
