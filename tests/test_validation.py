"""Validation edge cases that once crashed instead of answering INVALID."""

from __future__ import annotations

from models.accounts import Role
from models.projects import Project
from tests.factories import gid, make_person, make_territory

CREATE = """mutation($i: CreateProjectInput!) { createProject(input: $i) {
  project { id } userErrors { field code message } } }"""


async def test_huge_negative_and_over_precise_amounts_are_invalid_not_internal_errors(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    for amount, message in (("1e30", "Is too large."), ("-1e40", "Must be zero or more."),
                            ("10.005", "Must have at most 2 decimals.")):
        result = await gql(CREATE, {"i": {
            "territoryId": gid("Territory", territory.id), "title": "Bridge", "description": "A bridge.",
            "budget": {"amount": amount, "currency": "EUR"}}}, token=odile.token)
        assert "errors" not in result, result
        assert result["data"]["createProject"] == {"project": None, "userErrors": [
            {"field": ["input", "budget", "amount"], "code": "INVALID", "message": message}]}
    assert not await Project.filter(territory_id=territory.id).exists()
