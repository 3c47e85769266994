"""GraphQL documents and small steps shared by the consultation stories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.territories import Territory as TerritoryRow
from schema.relay import decode_id_of, encode_id

PHASE_FIELDS = "id kind title startsAt endsAt position state isCurrent acceptsIdeas acceptsQuestions"
CONSULTATION_FIELDS = f"""
  id title summary status url createdAt updatedAt publishedAt
  territory {{ id }}
  project {{ id }}
  phases {{ {PHASE_FIELDS} }}
  currentPhase {{ id title }}
"""

CREATE = f"""
mutation($input: CreateConsultationInput!) {{
  createConsultation(input: $input) {{ consultation {{ {CONSULTATION_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateConsultationInput!) {{
  updateConsultation(input: $input) {{ consultation {{ {CONSULTATION_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
PUBLISH = f"""
mutation($input: ConsultationInput!) {{
  publishConsultation(input: $input) {{ consultation {{ {CONSULTATION_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
ADD_PHASE = f"""
mutation($input: AddConsultationPhaseInput!) {{
  addConsultationPhase(input: $input) {{ phase {{ {PHASE_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPDATE_PHASE = f"""
mutation($input: UpdateConsultationPhaseInput!) {{
  updateConsultationPhase(input: $input) {{ phase {{ {PHASE_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
REMOVE_PHASE = f"""
mutation($input: PhaseIdInput!) {{
  removeConsultationPhase(input: $input) {{ consultation {{ {CONSULTATION_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
ADD_DOCUMENT = """
mutation($input: AddPhaseDocumentInput!) {
  addPhaseDocument(input: $input) { phase { id documents { id title url kind } } userErrors { field message code } }
}
"""
ATTACH_POLL = """
mutation($input: AttachPollToPhaseInput!) {
  attachPollToPhase(input: $input) { phase { id polls { id question } } userErrors { field message code } }
}
"""
PUBLISH_OUTCOME = """
mutation($input: PublishOutcomeInput!) {
  publishOutcome(input: $input) {
    outcome { id summary phase { id } ideas { id title } questions { id title } polls { id } }
    userErrors { field message code }
  }
}
"""
PROPOSE_IDEA = """
mutation($input: ProposeIdeaInput!) {
  proposeIdea(input: $input) { idea { id title } userErrors { field message code } }
}
"""
ASK_QUESTION = """
mutation($input: AskQuestionInput!) {
  askQuestion(input: $input) { question { id title } userErrors { field message code } }
}
"""
PAGE = f"""
query($id: ID!) {{
  node(id: $id) {{
    __typename
    ... on Consultation {{
      {CONSULTATION_FIELDS}
      phases {{
        id
        documents {{ id title url kind }}
        ideas {{ id title author {{ displayName }} outcomes {{ id summary }} }}
        questions {{ id title }}
        polls {{ id question }}
        outcome {{ id summary ideas {{ id }} questions {{ id }} polls {{ id }} }}
      }}
    }}
  }}
}}
"""
LIST = f"""
query($slug: String!) {{
  territory(slug: $slug) {{ consultations(first: 20) {{ totalCount edges {{ node {{ {CONSULTATION_FIELDS} }} }} }} }}
}}
"""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def at(**delta: float) -> str:
    return (now() + dt.timedelta(**delta)).isoformat()


def territory_gid(territory: TerritoryRow) -> str:
    return encode_id("Territory", territory.id)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def top_code(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def scot_phases() -> list[dict[str, Any]]:
    """Information (past), call for ideas (current), restitution (upcoming)."""
    return [
        {"kind": "INFORMATION", "title": "Information", "description": "The draft plan, presented.",
         "startsAt": at(days=-20), "endsAt": at(days=-10)},
        {"kind": "DEBATE", "title": "Call for ideas", "description": "Propose ideas for the plan.",
         "startsAt": at(days=-10), "endsAt": at(days=10)},
        {"kind": "RESTITUTION", "title": "Restitution", "description": "What was decided.",
         "startsAt": at(days=10), "endsAt": at(days=30)},
    ]


async def create(gql: Any, token: str | None, territory: TerritoryRow, **fields: Any) -> dict[str, Any]:
    value = {"territoryId": territory_gid(territory), "title": "Révision du SCoT",
             "summary": "The master plan, revised with residents.", "phases": scot_phases(), **fields}
    return await gql(CREATE, {"input": value}, token=token)  # type: ignore[no-any-return]


async def created(gql: Any, token: str, territory: TerritoryRow, **fields: Any) -> dict[str, Any]:
    result = await create(gql, token, territory, **fields)
    assert not result.get("errors"), result
    payload = result["data"]["createConsultation"]
    assert payload["userErrors"] == [], payload
    return payload["consultation"]  # type: ignore[no-any-return]


async def published(gql: Any, token: str, territory: TerritoryRow, **fields: Any) -> dict[str, Any]:
    consultation = await created(gql, token, territory, **fields)
    result = await gql(PUBLISH, {"input": {"consultationId": consultation["id"]}}, token=token)
    assert result["data"]["publishConsultation"]["userErrors"] == [], result
    return result["data"]["publishConsultation"]["consultation"]  # type: ignore[no-any-return]


async def propose(gql: Any, token: str, territory: TerritoryRow, phase_id: str | None, title: str = "Shaded squares"
                  ) -> dict[str, Any]:
    value = {"territoryId": territory_gid(territory), "title": title, "body": "Plant trees on every square.",
             "phaseId": phase_id}
    return (await gql(PROPOSE_IDEA, {"input": value}, token=token))["data"]["proposeIdea"]  # type: ignore[no-any-return]


async def ask(gql: Any, token: str, territory: TerritoryRow, phase_id: str | None) -> dict[str, Any]:
    value = {"territoryId": territory_gid(territory), "title": "Which villages densify?",
             "body": "Which villages does the plan densify?", "phaseId": phase_id}
    return (await gql(ASK_QUESTION, {"input": value}, token=token))["data"]["askQuestion"]  # type: ignore[no-any-return]


async def page(gql: Any, token: str | None, consultation_id: str) -> dict[str, Any] | None:
    result = await gql(PAGE, {"id": consultation_id}, token=token)
    assert not result.get("errors"), result
    return result["data"]["node"]  # type: ignore[no-any-return]
