"""GraphQL documents and small steps shared by the projects stories."""

from __future__ import annotations

from typing import Any

from models.territories import Territory as TerritoryRow
from schema.relay import decode_id_of, encode_id

PROJECT_FIELDS = """
  id title description createdAt
  territory { id }
  budget { amount currency }
  documents { id title url kind }
"""

CREATE = f"""
mutation Create($input: CreateProjectInput!) {{
  createProject(input: $input) {{
    project {{ {PROJECT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

ADD_DOCUMENT = f"""
mutation Add($input: AddDocumentInput!) {{
  addDocument(input: $input) {{
    project {{ {PROJECT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{
    __typename
    ... on Project {{
      {PROJECT_FIELDS}
      ideas(first: 10) {{ totalCount edges {{ node {{ id title project {{ id }} }} }} }}
      polls(first: 10) {{ totalCount edges {{ node {{ id question }} }} }}
      comments(first: 10) {{ totalCount }}
    }}
    ... on Document {{ id title url kind }}
  }}
}}
"""

RAIL_YARD = {
    "title": "Rail yard renewal",
    "description": "Turning the old rail yard into a park with shared gardens.",
    "budget": {"amount": "1250000.00", "currency": "EUR"},
    "documents": [
        {"title": "Budget 2027", "url": "https://agglo.example.org/budget.pdf", "kind": "BUDGET"},
        {"title": "Site plan", "url": "http://agglo.example.org/plan.pdf", "kind": "MAP"},
    ],
}


def territory_gid(territory: TerritoryRow) -> str:
    return encode_id("Territory", territory.id)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def top_code(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def create(gql: Any, token: str | None, territory: TerritoryRow, **fields: Any) -> dict[str, Any]:
    """The whole createProject response; fields override the rail yard project."""
    project_input = {"territoryId": territory_gid(territory), **RAIL_YARD, **fields}
    return await gql(CREATE, {"input": project_input}, token=token)  # type: ignore[no-any-return]


async def created(gql: Any, token: str | None, territory: TerritoryRow, **fields: Any) -> dict[str, Any]:
    result = await create(gql, token, territory, **fields)
    assert not result.get("errors"), result
    payload = result["data"]["createProject"]
    assert payload["userErrors"] == [], payload
    return payload["project"]  # type: ignore[no-any-return]


async def add_document(gql: Any, token: str | None, project_id: str, **document: Any) -> dict[str, Any]:
    fields = {"title": "Minutes of the public meeting", "url": "https://agglo.example.org/minutes.pdf",
              "kind": "REPORT", **document}
    variables = {"input": {"projectId": project_id, "document": fields}}
    return await gql(ADD_DOCUMENT, variables, token=token)  # type: ignore[no-any-return]
