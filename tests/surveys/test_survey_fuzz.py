"""Property-based fuzzing of the survey mutations' answers and questions: whatever arrives,
the answer is a result or a refusal (userErrors, a known top-level code, or GraphQL's own
variable coercion), never an internal error, and a refused submission stores nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.surveys import SealedSurveyResponse, SurveyParticipation
from schema.relay import encode_id
from tests.factories import Persona
from tests.fuzz.world import BIG_INTS, FUZZ, texts
from tests.polls.stories import town
from tests.surveys.stories import opened_survey, pk_of, survey_input

KNOWN = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED", "FORBIDDEN"}


@dataclass
class Place:
    survey: dict[str, Any]
    people: list[Persona]
    territory: str


@pytest.fixture(scope="module")
async def place(db: None) -> Place:
    t = await town()
    return Place(survey={}, people=[t.alice, t.bob, t.odile], territory=t.gid)


async def post(http: Any, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True).encode()
    response = await http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text[:2000]
    return response.json()  # type: ignore[no-any-return]


def check(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The userErrors of a result; asserts no error but the known codes."""
    for error in result.get("errors") or []:
        assert (error.get("extensions") or {}).get("code") in KNOWN, error
    data = result.get("data") or {}
    return (data.get(name) or {}).get("userErrors") or []


ints = st.one_of(st.integers(-3, 8), BIG_INTS, BIG_INTS.map(lambda n: -n))


def answer(question_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"questionId": st.one_of(st.sampled_from(question_ids), texts,
                                 st.integers(0, 10**6).map(lambda n: encode_id("SurveyQuestion", n)))},
        optional={"choices": st.lists(ints, max_size=6), "value": ints, "text": texts},
    )


SUBMIT = "mutation($input: SurveyAnswersInput!) { submitSurvey(input: $input) { userErrors { code field } } }"
DRAFT = "mutation($input: SurveyAnswersInput!) { saveSurveyDraft(input: $input) { userErrors { code field } } }"
CREATE = "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id } userErrors { code field } } }"


@FUZZ
@given(data=st.data())
async def test_any_answers(http, gql, place, data):
    if not place.survey:
        place.survey = await opened_survey(gql, place.people[2].token, place.territory)
    survey = place.survey
    ids = [q["id"] for q in survey["questions"]]
    given_ = data.draw(st.lists(answer(ids), max_size=8))
    person = data.draw(st.sampled_from(place.people))
    mutation, name = data.draw(st.sampled_from([(SUBMIT, "submitSurvey"), (DRAFT, "saveSurveyDraft")]))
    pk = pk_of(survey["id"], "Survey")
    before = (await SurveyParticipation.filter(survey_id=pk).count(), await SealedSurveyResponse.filter(survey_id=pk).count())
    result = await post(http, mutation, {"input": {"surveyId": survey["id"], "answers": given_}}, person.token)
    errors = check(result, name)
    if errors or result.get("errors") or name == "saveSurveyDraft":
        after = (await SurveyParticipation.filter(survey_id=pk).count(), await SealedSurveyResponse.filter(survey_id=pk).count())
        assert after == before, (given_, result)


question = st.fixed_dictionaries(
    {"kind": st.sampled_from(["SINGLE_CHOICE", "MULTIPLE_CHOICE", "RANKING", "SCALE", "SHORT_TEXT", "LONG_TEXT"]),
     "prompt": texts},
    optional={
        "options": st.lists(texts, max_size=25), "minChoices": ints, "maxChoices": ints, "scaleMin": ints,
        "scaleMax": ints, "minLabel": texts, "maxLabel": texts, "required": st.booleans(), "help": texts,
        "showIf": st.fixed_dictionaries({"questionPosition": ints, "optionPosition": ints}),
    },
)


@FUZZ
@given(data=st.data())
async def test_any_questions(http, place, data):
    questions = data.draw(st.lists(question, max_size=6))
    value = survey_input(place.territory, questions=questions)
    result = await post(http, CREATE, {"input": value}, place.people[2].token)
    check(result, "createSurvey")
