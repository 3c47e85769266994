"""Attacks on what a phase holds (issue 14 wired as one feature): a draft consultation's
documents and surveys are its staff's on every path, SQL lists included; only the
consultation's editors add a file or a survey to a phase; a citizen cannot replace a phase's
file."""

from __future__ import annotations

from typing import Any

from models.accounts import Role
from models.notifications import Notification, NotificationKind
from models.projects import Document, DocumentVersion
from models.surveys import Survey
from tests.consultations.stories import at, created, pk_of, published, territory_gid
from tests.consultations.test_phase_files_and_surveys import phases, upload_to_phase
from tests.documents.stories import PDF, REPLACE, post_multipart
from tests.factories import make_person, make_territory
from tests.surveys.stories import CREATE, call

NOTIFICATIONS = "{ viewer { notifications(first: 20) { totalCount edges { node { kind subject { id } } } } } }"


async def test_a_notification_about_a_draft_consultations_document_is_not_listed(gql, http):
    # Given a document uploaded to a draft consultation's phase, and (say, by a bug elsewhere) a
    # notification pointing alice at it
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    draft = await created(gql, odile.token, place, phases=phases())
    uploaded = await upload_to_phase(http, odile.token, draft["phases"][0]["id"])
    document_pk = pk_of(uploaded["document"]["id"], "Document")
    for person in (alice, odile):
        await Notification.create(account=person.account, kind=NotificationKind.NEW_COMMENT, subject_type="Document",
                                  subject_id=document_pk, message="about the plan")
    # Then her list (filtered in SQL: visibility._hidden_rows) leaves it out, count included;
    # odile, who writes the draft, has hers
    mine = (await gql(NOTIFICATIONS, token=alice.token))["data"]["viewer"]["notifications"]
    assert mine["totalCount"] == 0 and mine["edges"] == []
    hers = (await gql(NOTIFICATIONS, token=odile.token))["data"]["viewer"]["notifications"]
    assert [e["node"]["subject"] for e in hers["edges"]] == [{"id": uploaded["document"]["id"]}]
    # And once published, alice's shows too (a project's document beside it is unaffected by the rule)
    await gql('mutation($i: ConsultationInput!) { publishConsultation(input: $i) { userErrors { code } } }',
              {"i": {"consultationId": draft["id"]}}, token=odile.token)
    mine = (await gql(NOTIFICATIONS, token=alice.token))["data"]["viewer"]["notifications"]
    assert mine["totalCount"] == 1


async def test_a_citizen_cannot_replace_a_phase_file_nor_hold_a_survey_in_a_phase(gql, http):
    place = await make_territory()
    odile = await make_person("odile", place, role=Role.OFFICIAL)
    alice = await make_person("alice", place)
    consultation = await published(gql, odile.token, place, phases=phases())
    draft = await created(gql, odile.token, place, phases=[{**phases()[0], "startsAt": at(days=40),
                                                             "endsAt": at(days=50)}])
    public_doc = (await upload_to_phase(http, odile.token, consultation["phases"][0]["id"]))["document"]
    draft_doc = (await upload_to_phase(http, odile.token, draft["phases"][0]["id"]))["document"]

    async def replace_as_alice(document_id: str) -> dict[str, Any]:
        response = await post_multipart(http, REPLACE, {"input": {"documentId": document_id, "file": None}},
                                        {"input.file": ("evil.pdf", PDF + b"%evil", "application/pdf")}, alice.token)
        return response.json()  # type: ignore[no-any-return]

    # A published phase's file: FORBIDDEN; a draft's: NOT_FOUND (it does not exist for her)
    assert (await replace_as_alice(public_doc["id"]))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hidden = (await replace_as_alice(draft_doc["id"]))["data"]["replaceDocument"]
    assert [e["code"] for e in hidden["userErrors"]] == ["NOT_FOUND"]
    for gid in (public_doc["id"], draft_doc["id"]):
        assert await DocumentVersion.filter(document_id=pk_of(gid, "Document")).count() == 1

    # createSurvey in a phase: FORBIDDEN to alice; a draft's phase is NOT_FOUND to an official elsewhere
    attempt = {"territoryId": territory_gid(place), "phaseId": consultation["phases"][0]["id"], "title": "x",
               "closesAt": at(days=7), "questions": [{"kind": "LONG_TEXT", "prompt": "Anything?"}]}
    refused = await gql(CREATE, {"input": attempt}, token=alice.token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    elsewhere = await make_territory()
    otto = await make_person("otto", elsewhere, role=Role.OFFICIAL)
    foreign = await call(gql, CREATE, "createSurvey", {"input": {
        **attempt, "territoryId": territory_gid(elsewhere), "phaseId": draft["phases"][0]["id"]}}, otto.token)
    assert [e["code"] for e in foreign["userErrors"]] == ["NOT_FOUND"]
    assert await Survey.filter(phase_id__isnull=False, territory_id__in=[place.id, elsewhere.id]).count() == 0
    assert await Document.filter(phase_id=pk_of(draft["phases"][0]["id"], "ConsultationPhase")).count() == 1
