"""GraphQL documents and small steps shared by the surveys stories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schema.relay import decode_id_of

SURVEY_FIELDS = """
  id title description status opensAt closesAt verifiedOnly resultsVisibility
  viewerHasSubmitted
  viewerDraft { answers { questionId choices value text } }
  territory { id }
  project { id }
  questions {
    id position kind prompt required minChoices maxChoices scaleMin scaleMax minLabel maxLabel
    options { position label }
    showIf { questionPosition optionPosition }
  }
  results {
    totalSubmissions countedSubmissions final
    questions {
      question { position }
      answered average textAnswers
      options { option { label } count share averagePosition bordaPoints }
      scale { value count }
    }
  }
"""

PAYLOAD = f"survey {{ {SURVEY_FIELDS} }} userErrors {{ field message code }}"

CREATE = f"mutation($input: CreateSurveyInput!) {{ createSurvey(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateSurveyInput!) {{ updateSurvey(input: $input) {{ {PAYLOAD} }} }}"
OPEN = f"mutation($input: SurveyInput!) {{ openSurvey(input: $input) {{ {PAYLOAD} }} }}"
CLOSE = f"mutation($input: SurveyInput!) {{ closeSurvey(input: $input) {{ {PAYLOAD} }} }}"
SUBMIT = f"mutation($input: SurveyAnswersInput!) {{ submitSurvey(input: $input) {{ {PAYLOAD} }} }}"
DRAFT = """
mutation($input: SurveyAnswersInput!) {
  saveSurveyDraft(input: $input) {
    survey { id } draft { answers { questionId choices value text } } userErrors { field message code }
  }
}
"""
EXPORT = """
mutation($input: ExportSurveyInput!) {
  exportSurveyResponses(input: $input) {
    export { format contentType filename content responses } userErrors { field message code }
  }
}
"""
READ = f"query($id: ID!) {{ survey(id: $id) {{ {SURVEY_FIELDS} }} }}"
LIST = """
query($territoryId: ID!) { surveys(territoryId: $territoryId, first: 20) { totalCount edges { node { id status } } } }
"""

DAY = dt.timedelta(days=1)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pk_of(global_id: str, kind: str) -> int:
    pk = decode_id_of(global_id, kind)
    assert pk is not None, global_id
    return pk


def scot_questions() -> list[dict[str, Any]]:
    """The SCoT survey: question 3 (where) shows only to those who answered "Yes" to 1."""
    return [
        {"kind": "SINGLE_CHOICE", "prompt": "Do you use the tram?", "required": True, "options": ["Yes", "No"]},
        {"kind": "MULTIPLE_CHOICE", "prompt": "What should the plan protect?", "options": ["Farmland", "Rivers", "Forests", "Old town"],
         "minChoices": 1, "maxChoices": 2},
        {"kind": "SHORT_TEXT", "prompt": "Which stop do you use?", "required": True,
         "showIf": {"questionPosition": 0, "optionPosition": 0}},
        {"kind": "RANKING", "prompt": "Rank the priorities", "options": ["Housing", "Transport", "Nature"]},
        {"kind": "SCALE", "prompt": "How satisfied are you with the draft plan?", "scaleMin": 1, "scaleMax": 5,
         "minLabel": "Not at all", "maxLabel": "Very"},
        {"kind": "LONG_TEXT", "prompt": "Anything else?"},
    ]


def survey_input(territory_gid: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "territoryId": territory_gid,
        "title": "Révision du SCoT : votre avis",
        "description": "What should the master plan keep, change, protect?",
        "closesAt": (now() + 7 * DAY).isoformat(),
        "questions": scot_questions(),
    }
    values.update(overrides)
    return values


async def call(gql: Any, document: str, name: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    """A mutation's payload (no top-level error expected)."""
    result = await gql(document, variables, token=token)
    assert not result.get("errors"), result
    return result["data"][name]  # type: ignore[no-any-return]


async def ok(gql: Any, document: str, name: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    payload = await call(gql, document, name, variables, token)
    assert payload["userErrors"] == [], payload
    return payload


async def opened_survey(gql: Any, token: str, territory_gid: str, **overrides: Any) -> dict[str, Any]:
    """A survey created and opened by `token` (an official)."""
    made = await ok(gql, CREATE, "createSurvey", {"input": survey_input(territory_gid, **overrides)}, token)
    sid = made["survey"]["id"]
    return (await ok(gql, OPEN, "openSurvey", {"input": {"surveyId": sid}}, token))["survey"]  # type: ignore[no-any-return]


def answers(survey: dict[str, Any], **by_position: Any) -> list[dict[str, Any]]:
    """Answer inputs: position -> {"choices": [...]} / {"value": n} / {"text": "..."}."""
    qs = survey["questions"]
    return [{"questionId": qs[int(p[1:])]["id"], **value} for p, value in by_position.items()]


def full_answers(survey: dict[str, Any], tram: int, *, stop: str = "Gare", protect: list[int] | None = None,
                 rank: list[int] | None = None, scale: int = 4, extra: str | None = None) -> list[dict[str, Any]]:
    """A complete, valid submission: tram 0 (Yes) answers the stop question, 1 (No) does not."""
    given: dict[str, Any] = {
        "q0": {"choices": [tram]},
        "q1": {"choices": protect if protect is not None else [1]},
        "q3": {"choices": rank if rank is not None else [0, 1, 2]},
        "q4": {"value": scale},
    }
    if tram == 0:
        given["q2"] = {"text": stop}
    if extra is not None:
        given["q5"] = {"text": extra}
    return answers(survey, **given)


async def submit(gql: Any, token: str | None, survey_id: str, given: list[dict[str, Any]]) -> dict[str, Any]:
    return await call(gql, SUBMIT, "submitSurvey", {"input": {"surveyId": survey_id, "answers": given}}, token)


async def read(gql: Any, token: str | None, survey_id: str) -> dict[str, Any] | None:
    result = await gql(READ, {"id": survey_id}, token=token)
    assert not result.get("errors"), result
    return result["data"]["survey"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
