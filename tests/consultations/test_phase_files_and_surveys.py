"""A phase holds real documents (files with versions, or links) and surveys (issue 14 as one
feature): odile uploads the draft plan to the information phase and holds a survey in the
survey phase; alice reads the file and answers the survey while its phase runs, and only then."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.accounts import Role
from models.consultations import ConsultationPhase
from models.projects import Document, DocumentVersion
from models.surveys import SealedSurveyResponse, Survey, SurveyParticipation
from tests.consultations.stories import (
    ADD_DOCUMENT,
    at,
    codes,
    created,
    now,
    pk_of,
    published,
    territory_gid,
)
from tests.documents.stories import PDF, UPLOAD, files_under, path_of, post_multipart, stored
from tests.factories import make_person, make_territory
from tests.surveys.stories import CREATE, LIST, OPEN, call, ok, read, submit

PHASE_PAGE = """query($id: ID!) { node(id: $id) { ... on Consultation { phases {
  id kind
  documents { id title url draft currentVersion { url contentType size } versions { number } }
  surveys { id title status viewerCanSubmit { allowed reason } }
} } } }"""


def phases() -> list[dict[str, Any]]:
    """Information (current), survey (upcoming, in ten days)."""
    return [
        {"kind": "INFORMATION", "title": "Information", "description": "The draft plan.",
         "startsAt": at(days=-2), "endsAt": at(days=10)},
        {"kind": "SURVEY", "title": "Survey", "description": "Your priorities.",
         "startsAt": at(days=10), "endsAt": at(days=20)},
    ]


async def upload_to_phase(http: Any, token: str | None, phase_id: str | None, content: bytes = PDF,
                          **fields: Any) -> dict[str, Any]:
    variables = {"input": {"phaseId": phase_id, "title": "Projet de SCoT", "file": None, **fields}}
    response = await post_multipart(http, UPLOAD, variables, {"input.file": ("scot.pdf", content, "application/pdf")},
                                    token)
    assert response.status_code == 200, response.text
    return response.json()["data"]["uploadDocument"]  # type: ignore[no-any-return]


async def the_page(gql: Any, token: str | None, consultation_id: str) -> list[dict[str, Any]] | None:
    result = await gql(PHASE_PAGE, {"id": consultation_id}, token=token)
    assert not result.get("errors"), result
    node = result["data"]["node"]
    return node["phases"] if node else None


async def test_odile_uploads_the_draft_plan_to_the_information_phase_and_alice_reads_it(gql, http, settings):
    # Given a published consultation whose information phase runs now
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    consultation = await published(gql, odile.token, place, phases=phases())
    information = consultation["phases"][0]["id"]

    # When odile uploads the PDF to the phase (a multipart request)
    uploaded = await upload_to_phase(http, odile.token, information)
    assert uploaded["userErrors"] == [], uploaded
    document = uploaded["document"]

    # Then the phase lists it as a Document with its version, and alice downloads the same bytes
    shown = await the_page(gql, alice.token, consultation["id"])
    assert shown is not None
    [listed] = shown[0]["documents"]
    assert listed["id"] == document["id"] and listed["versions"] == [{"number": 1}]
    assert listed["currentVersion"]["contentType"] == "application/pdf" and listed["url"] == listed["currentVersion"]["url"]
    served = await http.get(path_of(listed["url"]))
    assert served.status_code == 200 and served.content == PDF
    row = await Document.get(id=pk_of(document["id"], "Document"))
    assert (row.phase_id, row.project_id) == (pk_of(information, "ConsultationPhase"), None)
    version = await DocumentVersion.get(document_id=row.id)
    assert stored(settings.files_dir, version.key) == PDF

    # And a link published with addPhaseDocument is a Document of the phase too, after the file
    added = await gql(ADD_DOCUMENT, {"input": {"phaseId": information, "document": {
        "title": "Diagnostic", "url": "https://example.org/diagnostic.pdf", "kind": "REPORT"}}}, token=odile.token)
    assert added["data"]["addPhaseDocument"]["userErrors"] == [], added
    documents = added["data"]["addPhaseDocument"]["phase"]["documents"]
    assert [d["title"] for d in documents] == ["Projet de SCoT", "Diagnostic"]
    assert await Document.filter(phase_id=row.phase_id).count() == 2
    node = await gql('query($id: ID!) { node(id: $id) { __typename ... on Document { title } } }',
                     {"id": documents[1]["id"]}, token=alice.token)
    assert node["data"]["node"] == {"__typename": "Document", "title": "Diagnostic"}


async def test_an_upload_names_exactly_one_owner_and_only_editors_upload_to_a_phase(gql, http, settings):
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    consultation = await published(gql, odile.token, place, phases=phases())
    information = consultation["phases"][0]["id"]
    project = await gql('mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }',
                        {"i": {"territoryId": territory_gid(place), "title": "SCoT", "description": "d"}},
                        token=odile.token)
    project_id = project["data"]["createProject"]["project"]["id"]
    files_before = files_under(settings.files_dir)

    # Neither, or both: INVALID, nothing kept
    neither = await upload_to_phase(http, odile.token, None)
    both = await upload_to_phase(http, odile.token, information, projectId=project_id)
    assert codes(neither) == [("INVALID", ["input", "projectId"])]
    assert codes(both) == [("INVALID", ["input", "projectId"])]
    # alice is no editor: FORBIDDEN (top-level, as for projects)
    refused = await post_multipart(http, UPLOAD, {"input": {"phaseId": information, "title": "x", "file": None}},
                                   {"input.file": ("x.pdf", PDF, "application/pdf")}, alice.token)
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A phase of another territory's draft: NOT_FOUND to odile, who is no official there
    elsewhere = await make_territory()
    olga = await make_person("olga", elsewhere, role=Role.OFFICIAL)
    draft = await created(gql, olga.token, elsewhere, phases=phases())
    hidden = await upload_to_phase(http, odile.token, draft["phases"][0]["id"])
    assert codes(hidden) == [("NOT_FOUND", ["input", "phaseId"])]
    assert await Document.filter(phase_id__isnull=False).filter(
        phase_id__in=[pk_of(information, "ConsultationPhase"), pk_of(draft["phases"][0]["id"], "ConsultationPhase")]
    ).count() == 0
    assert files_under(settings.files_dir) == files_before


async def test_a_draft_consultations_file_is_its_staffs_only(gql, http):
    # Given a draft consultation with the plan uploaded to its first phase
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    draft = await created(gql, odile.token, place, phases=phases())
    uploaded = await upload_to_phase(http, odile.token, draft["phases"][0]["id"])
    assert uploaded["userErrors"] == [], uploaded
    url = uploaded["document"]["currentVersion"]["url"]
    # Then its file URL is signed (not public), alice cannot reach the document, nor its file unsigned
    assert "signature=" in url
    node = await gql('query($id: ID!) { node(id: $id) { id } }', {"id": uploaded["document"]["id"]}, token=alice.token)
    assert node["data"]["node"] is None
    assert (await http.get(path_of(url).split("?")[0])).status_code == 403
    assert (await http.get(path_of(url))).status_code == 200
    # And once published, the same file is public
    await gql('mutation($i: ConsultationInput!) { publishConsultation(input: $i) { userErrors { code } } }',
              {"i": {"consultationId": draft["id"]}}, token=odile.token)
    shown = await the_page(gql, alice.token, draft["id"])
    assert shown is not None
    public = shown[0]["documents"][0]["currentVersion"]["url"]
    assert "signature=" not in public and (await http.get(path_of(public))).status_code == 200


async def test_a_phase_survey_takes_answers_only_while_its_phase_runs(gql):
    # Given a published consultation whose survey phase starts in ten days, and a survey open now held by it
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    consultation = await published(gql, odile.token, place, phases=phases())
    survey_phase = consultation["phases"][1]["id"]
    made = await ok(gql, CREATE, "createSurvey", {"input": {
        "territoryId": territory_gid(place), "phaseId": survey_phase, "title": "Vos priorités",
        "closesAt": at(days=30), "questions": [
            {"kind": "SINGLE_CHOICE", "prompt": "Do you use the tram?", "required": True, "options": ["Yes", "No"]},
        ]}}, odile.token)
    survey = (await ok(gql, OPEN, "openSurvey", {"input": {"surveyId": made["survey"]["id"]}}, odile.token))["survey"]
    assert (await Survey.get(id=pk_of(survey["id"], "Survey"))).phase_id == pk_of(survey_phase, "ConsultationPhase")

    # Then the phase lists it, and alice is told before the click that the phase is not running
    shown = await the_page(gql, alice.token, consultation["id"])
    assert shown is not None
    assert [(s["id"], s["status"]) for s in shown[1]["surveys"]] == [(survey["id"], "OPEN")]
    assert shown[1]["surveys"][0]["viewerCanSubmit"] == {"allowed": False, "reason": "PHASE_CLOSED"}
    assert shown[0]["surveys"] == []
    # When alice submits now: PHASE_CLOSED, nothing recorded
    one = [{"questionId": survey["questions"][0]["id"], "choices": [0]}]
    refused = await submit(gql, alice.token, survey["id"], one)
    assert [e["code"] for e in refused["userErrors"]] == ["PHASE_CLOSED"]
    assert await SurveyParticipation.filter(survey_id=pk_of(survey["id"], "Survey")).count() == 0
    assert await SealedSurveyResponse.filter(survey_id=pk_of(survey["id"], "Survey")).count() == 0

    # When the phase runs (its dates moved to now), her submission is taken
    await ConsultationPhase.filter(id=pk_of(consultation["phases"][0]["id"], "ConsultationPhase")).update(
        ends_at=now() - dt.timedelta(days=1), starts_at=now() - dt.timedelta(days=3))
    await ConsultationPhase.filter(id=pk_of(survey_phase, "ConsultationPhase")).update(
        starts_at=now() - dt.timedelta(days=1), ends_at=now() + dt.timedelta(days=5))
    taken = await submit(gql, alice.token, survey["id"], one)
    assert taken["userErrors"] == [], taken
    assert (await read(gql, alice.token, survey["id"]) or {})["viewerHasSubmitted"] is True


async def test_a_draft_consultations_survey_is_invisible_to_citizens(gql):
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    draft = await created(gql, odile.token, place, phases=phases())
    # odile holds an open survey in the draft's current phase
    made = await ok(gql, CREATE, "createSurvey", {"input": {
        "territoryId": territory_gid(place), "phaseId": draft["phases"][0]["id"], "title": "Draft's survey",
        "closesAt": at(days=7), "questions": [
            {"kind": "SINGLE_CHOICE", "prompt": "Yes?", "required": True, "options": ["Yes", "No"]}]}}, odile.token)
    survey = (await ok(gql, OPEN, "openSurvey", {"input": {"surveyId": made["survey"]["id"]}}, odile.token))["survey"]
    # Then alice finds it nowhere, and submitting answers NOT_FOUND (as for an id that names nothing)
    assert await read(gql, alice.token, survey["id"]) is None
    listed = await gql(LIST, {"territoryId": territory_gid(place)}, token=alice.token)
    assert listed["data"]["surveys"]["totalCount"] == 0
    refused = await submit(gql, alice.token, survey["id"], [{"questionId": survey["questions"][0]["id"], "choices": [0]}])
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    # odile sees it in the list and on the page; answering a draft's survey is PHASE_CLOSED for her too
    assert (await read(gql, odile.token, survey["id"]) or {})["id"] == survey["id"]
    staff_list = await gql(LIST, {"territoryId": territory_gid(place)}, token=odile.token)
    assert staff_list["data"]["surveys"]["totalCount"] == 1
    shown = await the_page(gql, odile.token, draft["id"])
    assert shown is not None and [s["id"] for s in shown[0]["surveys"]] == [survey["id"]]
    assert shown[0]["surveys"][0]["viewerCanSubmit"]["reason"] in ("PHASE_CLOSED", "NOT_A_MEMBER")


async def test_a_survey_names_a_phase_of_its_own_territory(gql):
    place, elsewhere = await make_territory(), await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    olga = await make_person("olga", elsewhere, role=Role.OFFICIAL)
    foreign = await published(gql, olga.token, elsewhere, phases=phases())
    refused = await call(gql, CREATE, "createSurvey", {"input": {
        "territoryId": territory_gid(place), "phaseId": foreign["phases"][0]["id"], "title": "x",
        "closesAt": at(days=7), "questions": [{"kind": "LONG_TEXT", "prompt": "Anything?"}]}}, odile.token)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("NOT_FOUND", ["input", "phaseId"])]
    assert await Survey.filter(territory_id=place.id).count() == 0
