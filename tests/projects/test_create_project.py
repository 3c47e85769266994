"""createProject: officials and admins publish a project with its budget and documents."""

from __future__ import annotations

from decimal import Decimal

from events.envelopes import territory_channel
from models.accounts import Role
from models.feed import FeedEntry
from models.projects import Document as DocumentRow
from models.projects import Project as ProjectRow
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.ideas.stories import recorded
from tests.projects.stories import NODE, create, created, pk_of, territory_gid, top_code


def errors_of(result: dict) -> list[tuple[str, list[str] | None]]:
    assert not result.get("errors"), result
    payload = result["data"]["createProject"]
    assert payload["project"] is None
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_odile_publishes_a_project_with_budget_and_documents(gql, app_broker):
    # Given odile, an official of the territory
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)

    # When she publishes the rail yard project
    async with recorded(app_broker, territory_channel(territory.id)) as events:
        project = await created(gql, odile.token, territory)

    # Then budget and documents come back exactly, the amount as a string with its 2 decimals
    assert project["title"] == "Rail yard renewal"
    assert project["budget"] == {"amount": "1250000.00", "currency": "EUR"}
    assert [(d["title"], d["url"], d["kind"]) for d in project["documents"]] == [
        ("Budget 2027", "https://agglo.example.org/budget.pdf", "BUDGET"),
        ("Site plan", "http://agglo.example.org/plan.pdf", "MAP"),
    ]
    assert project["territory"] == {"id": territory_gid(territory)}
    row = await ProjectRow.get(id=pk_of(project["id"], "Project"))
    assert (row.budget_amount, row.budget_currency, row.created_by_id) == (
        Decimal("1250000.00"), "EUR", odile.member.id,
    )

    # And the project entered the feed, and its event went out after commit
    entries = await FeedEntry.filter(territory_id=territory.id)
    assert [(e.subject_type, e.subject_id) for e in entries] == [("Project", row.id)]
    assert [(e.type, e.data) for e in events] == [
        ("feed", {"entry": entries[0].id, "kind": "Project", "id": row.id})
    ]

    # And it reads back the same through node, by anyone
    node = (await gql(NODE, {"id": project["id"]}))["data"]["node"]
    assert node["__typename"] == "Project"
    assert (node["budget"], node["documents"]) == (project["budget"], project["documents"])
    document = (await gql(NODE, {"id": project["documents"][0]["id"]}))["data"]["node"]
    assert document == {"__typename": "Document", **project["documents"][0]}


async def test_amounts_are_normalised_to_two_decimals_and_currencies_to_upper_case(gql):
    territory = await make_territory()
    adam = await make_person("adam", territory, role=Role.ADMIN)

    for amount, currency, expected in (
        ("1250000", "eur", {"amount": "1250000.00", "currency": "EUR"}),
        ("0.5", "CHF", {"amount": "0.50", "currency": "CHF"}),
        ("0", "USD", {"amount": "0.00", "currency": "USD"}),
        ("99.990", "EUR", {"amount": "99.99", "currency": "EUR"}),
    ):
        project = await created(gql, adam.token, territory, budget={"amount": amount, "currency": currency})
        assert project["budget"] == expected


async def test_a_project_without_budget_nor_documents(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)

    project = await created(gql, odile.token, territory, budget=None, documents=None)

    assert project["budget"] is None
    assert project["documents"] == []


async def test_every_bad_field_is_reported_with_its_path(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)

    result = await create(
        gql, odile.token, territory,
        title="",
        description="d" * 20_001,
        budget={"amount": "-1.00", "currency": "XYZ"},
        documents=[
            {"title": "Fine", "url": "https://agglo.example.org/ok.pdf", "kind": "DOCUMENT"},
            {"title": "", "url": "javascript:alert(1)", "kind": "MAP"},
            {"title": "Ftp", "url": "ftp://agglo.example.org/x", "kind": "REPORT"},
        ],
    )

    assert errors_of(result) == [
        ("INVALID", ["input", "title"]),
        ("INVALID", ["input", "description"]),
        ("INVALID", ["input", "budget", "amount"]),
        ("INVALID", ["input", "budget", "currency"]),
        ("INVALID", ["input", "documents", "1", "title"]),
        ("INVALID", ["input", "documents", "1", "url"]),
        ("INVALID", ["input", "documents", "2", "url"]),
    ]
    assert await ProjectRow.filter(territory_id=territory.id).count() == 0
    assert await FeedEntry.filter(territory_id=territory.id).count() == 0


async def test_amounts_with_more_than_two_decimals_are_refused(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)

    result = await create(gql, odile.token, territory, budget={"amount": "10.005", "currency": "EUR"})

    assert errors_of(result) == [("INVALID", ["input", "budget", "amount"])]


async def test_an_amount_that_is_not_a_decimal_is_a_bad_request(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)

    result = await create(gql, odile.token, territory, budget={"amount": "a lot", "currency": "EUR"})

    assert result["errors"] and result.get("data") is None
    assert await ProjectRow.filter(territory_id=territory.id).count() == 0


async def test_at_most_fifty_documents(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    documents = [{"title": f"D{i}", "url": f"https://example.org/{i}", "kind": "DOCUMENT"} for i in range(51)]

    assert errors_of(await create(gql, odile.token, territory, documents=documents)) == [
        ("INVALID", ["input", "documents"])
    ]
    project = await created(gql, odile.token, territory, documents=documents[:50])
    assert len(project["documents"]) == 50


async def test_citizens_and_moderators_are_forbidden_anonymous_unauthenticated(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    otto = await make_person("otto", await make_territory(), role=Role.OFFICIAL)
    outsider = await make_person("bob")

    assert top_code(await create(gql, None, territory)) == "UNAUTHENTICATED"
    for who in (alice, mona, otto, outsider):
        result = await create(gql, who.token, territory)
        assert top_code(result) == "FORBIDDEN"
        assert result["data"] is None
    assert await ProjectRow.filter(territory_id=territory.id).count() == 0
    assert await FeedEntry.filter(territory_id=territory.id).count() == 0


async def test_an_unknown_territory_is_not_found(gql):
    odile = await make_person("odile", await make_territory(), role=Role.OFFICIAL)

    for territory_id in (encode_id("Territory", 2**31 - 1), "garbage"):
        result = await gql(
            """mutation($input: CreateProjectInput!) { createProject(input: $input) {
                 project { id } userErrors { field code } } }""",
            {"input": {"territoryId": territory_id, "title": "T", "description": "D"}},
            token=odile.token,
        )
        assert result["data"]["createProject"] == {
            "project": None,
            "userErrors": [{"field": ["input", "territoryId"], "code": "NOT_FOUND"}],
        }
    assert await DocumentRow.filter(project__territory_id=odile.member.territory_id).count() == 0
