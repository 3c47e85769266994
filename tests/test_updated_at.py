"""Every type its staff edit says when it last changed (issue 11: `updatedAt` on every editable
type): its creation until the first change, then the time of the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.accounts import Role
from tests.consultations.stories import published
from tests.documents.stories import PDF, project_with_odile, replace, upload
from tests.factories import gid, make_person, make_territory
from tests.surveys.stories import CREATE as CREATE_SURVEY
from tests.surveys.stories import UPDATE, ok, survey_input

TERRITORY = "query($s: String!) { territory(slug: $s) { updatedAt } }"
UPDATE_TERRITORY = """mutation($i: UpdateTerritoryInput!) { updateTerritory(input: $i) {
    territory { updatedAt } userErrors { code } } }"""
PHASE = "query($id: ID!) { node(id: $id) { ... on ConsultationPhase { updatedAt } } }"
UPDATE_PHASE = """mutation($i: UpdateConsultationPhaseInput!) { updateConsultationPhase(input: $i) {
    phase { updatedAt } userErrors { code } } }"""
SURVEY = "query($id: ID!) { survey(id: $id) { updatedAt } }"
DOCUMENT = "query($id: ID!) { node(id: $id) { ... on Document { updatedAt } } }"


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def moved(before: str, after: str, since: dt.datetime) -> None:
    assert at(before) <= since <= at(after), (before, since, after)


async def test_territories_phases_surveys_and_documents_say_when_they_last_changed(gql: Any, http: Any) -> None:
    t = await make_territory()
    adam = await make_person("adam", t, Role.ADMIN)
    odile = await make_person("odile", t, Role.OFFICIAL)

    # A territory: its creation, then the admin's change
    before = (await gql(TERRITORY, {"s": t.slug}))["data"]["territory"]["updatedAt"]
    since = dt.datetime.now(dt.UTC)
    changed = await gql(UPDATE_TERRITORY, {"i": {"territoryId": gid("Territory", t.id), "charter": "Be kind."}},
                        token=adam.token)
    assert changed["data"]["updateTerritory"]["userErrors"] == []
    await moved(before, changed["data"]["updateTerritory"]["territory"]["updatedAt"], since)

    # A consultation phase
    consultation = await published(gql, odile.token, t)
    phase_id = consultation["phases"][-1]["id"]
    before = (await gql(PHASE, {"id": phase_id}))["data"]["node"]["updatedAt"]
    since = dt.datetime.now(dt.UTC)
    changed = await gql(UPDATE_PHASE, {"i": {"phaseId": phase_id, "title": "Restitution publique"}}, token=odile.token)
    assert changed["data"]["updateConsultationPhase"]["userErrors"] == [], changed
    await moved(before, changed["data"]["updateConsultationPhase"]["phase"]["updatedAt"], since)

    # A survey (a draft, changed by its staff)
    made = await ok(gql, CREATE_SURVEY, "createSurvey", {"input": survey_input(gid("Territory", t.id))}, odile.token)
    survey_id = made["survey"]["id"]
    before = (await gql(SURVEY, {"id": survey_id}, token=odile.token))["data"]["survey"]["updatedAt"]
    since = dt.datetime.now(dt.UTC)
    await ok(gql, UPDATE, "updateSurvey", {"input": {"surveyId": survey_id, "title": "Votre avis"}}, odile.token)
    after = (await gql(SURVEY, {"id": survey_id}, token=odile.token))["data"]["survey"]["updatedAt"]
    await moved(before, after, since)

    # A document file, replaced by a new version
    _, official, project_id = await project_with_odile(gql)
    document = (await upload(http, official.token, project_id, PDF))["data"]["uploadDocument"]["document"]
    before = (await gql(DOCUMENT, {"id": document["id"]}))["data"]["node"]["updatedAt"]
    since = dt.datetime.now(dt.UTC)
    replaced = await replace(http, official.token, document["id"], PDF + b"%v2\n")
    assert replaced["data"]["replaceDocument"]["userErrors"] == [], replaced
    after = (await gql(DOCUMENT, {"id": document["id"]}))["data"]["node"]["updatedAt"]
    await moved(before, after, since)
