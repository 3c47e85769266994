"""The SCoT revision, over the API of a real `python server.py serve`: odile the official
prepares a consultation in phases, uploads the draft plan as a PDF to its information phase
(a multipart request) and holds a survey in its call for ideas, and publishes it; alice the
citizen reads it, downloads the plan by its URL, answers the phase's survey, proposes an idea
in the call for ideas, is refused in a phase that is over, watches the next phase start live
over a websocket (nobody presses a button: the clock moves it), is told of it as a follower,
and reads the outcome linked to her idea."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from demo.pdf import pdf_of
from tests.e2e.server import ServerProcess, new_database_url
from tests.live.harness import Http, Live, log_in, prepare_database, server_env, sign_up

CREATE = """mutation($i: CreateConsultationInput!) { createConsultation(input: $i) {
  consultation { id status phases { id title state } } userErrors { code field } } }"""
PUBLISH = """mutation($c: ID!) { publishConsultation(input: {consultationId: $c}) {
  consultation { status } userErrors { code } } }"""
ADD_DOCUMENT = """mutation($i: AddPhaseDocumentInput!) { addPhaseDocument(input: $i) { userErrors { code } } }"""
PAGE = """query($id: ID!) { node(id: $id) { ... on Consultation {
  title status currentPhase { title }
  phases { id title kind state documents { title url } ideas { id title outcomes { summary } }
           outcome { summary ideas { id } } } } } }"""
UPLOAD = """mutation($i: UploadDocumentInput!) { uploadDocument(input: $i) {
  document { id title currentVersion { contentType size url } } userErrors { code field } } }"""
FILES = """query($id: ID!) { node(id: $id) { ... on Consultation { phases {
  documents { title currentVersion { url contentType size } }
  surveys { id title viewerCanSubmit { allowed reason } questions { id prompt } results { totalSubmissions } } } } } }"""
CREATE_SURVEY = """mutation($i: CreateSurveyInput!) { createSurvey(input: $i) { survey { id } userErrors { code field } } }"""
OPEN_SURVEY = """mutation($s: ID!) { openSurvey(input: {surveyId: $s}) { survey { status } userErrors { code } } }"""
SUBMIT = """mutation($i: SurveyAnswersInput!) { submitSurvey(input: $i) {
  survey { viewerHasSubmitted results { totalSubmissions } } userErrors { code field } } }"""
PLAN = pdf_of("Projet de SCoT arrêté", ("Habitat, mobilités, terres agricoles : le projet de plan.",))
LIST = """query($s: String!) { territory(slug: $s) { consultations(first: 5) { edges { node { id title } } } } }"""
PROPOSE = """mutation($i: ProposeIdeaInput!) { proposeIdea(input: $i) { idea { id } userErrors { code field } } }"""
FOLLOW = """mutation($s: ID!) { follow(input: {subjectId: $s}) { following } }"""
OUTCOME = """mutation($i: PublishOutcomeInput!) { publishOutcome(input: $i) { outcome { id } userErrors { code } } }"""
UPDATES = """subscription($c: ID!) { consultationUpdates(consultationId: $c) {
  change currentPhase { title } consultation { id status } } }"""
NOTIFICATIONS = """{ viewer { notifications(first: 10) { edges { node { kind message } } } } }"""
FEED = """query($s: String!) { territory(slug: $s) { feed(first: 5) { edges { node {
  __typename ... on Consultation { id } } } } } }"""

SLUG = "scot-agglo"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    db = new_database_url()
    prepare_database(db, SLUG)
    process = ServerProcess(db, **server_env(), PARVIS_POLL_CLOSER_SECONDS="0.3",
                            PARVIS_FILES_DIR=tempfile.mkdtemp(prefix="parvis-e2e-files-"))
    # File URLs name this server (its port is chosen when the process is made).
    process.env["PARVIS_FILES_URL"] = f"{process.url}/files"
    with process:
        yield process


async def upload(url: str, token: str, variables: dict[str, Any], content: bytes) -> dict[str, Any]:
    """uploadDocument as a browser's upload link sends it: the GraphQL multipart request, with
    the header that proves it is no cross-site form."""
    data = {"operations": json.dumps({"query": UPLOAD, "variables": variables}),
            "map": json.dumps({"0": ["variables.i.file"]})}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{url}/graphql", data=data, files={"0": ("scot.pdf", content, "application/pdf")},
                                     headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadDocument"]  # type: ignore[no-any-return]


def at(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


async def test_the_scot_revision_runs_in_phases_from_draft_to_outcome(server: ServerProcess) -> None:
    url = server.url
    territory = (await Http(url)(f'{{ territory(slug: "{SLUG}") {{ id }} }}'))["territory"]["id"]
    adam = await log_in(url, f"adam@{SLUG}.example", territory)
    odile = await sign_up(url, "odile@example.org", "Odile", territory)
    alice = await sign_up(url, "alice@example.org", "Alice", territory)
    await adam.http(
        "mutation($m: ID!) { appointOfficial(input: {memberId: $m, title: \"Vice-présidente\"}) { userErrors { code } } }",
        {"m": odile.member_id},
    )

    # Odile prepares the consultation: information (over), call for ideas (a few seconds
    # left), restitution (starting when the call ends)
    switch = 25.0
    created = (await odile.http(CREATE, {"i": {
        "territoryId": territory, "title": "Révision du SCoT du Carcassonnais",
        "summary": "Le schéma de cohérence territoriale, révisé avec les habitants.",
        "phases": [
            {"kind": "INFORMATION", "title": "Information", "description": "Le projet de plan.",
             "startsAt": at(-7200), "endsAt": at(-3600)},
            {"kind": "DEBATE", "title": "Appel à idées", "description": "Vos idées pour le plan.",
             "startsAt": at(-3600), "endsAt": at(switch)},
            {"kind": "RESTITUTION", "title": "Restitution", "description": "Ce qui a été décidé.",
             "startsAt": at(switch), "endsAt": at(86400)},
        ],
    }}))["createConsultation"]
    assert created["userErrors"] == []
    consultation = created["consultation"]
    information, debate, restitution = (p["id"] for p in consultation["phases"])
    added = await odile.http(ADD_DOCUMENT, {"i": {"phaseId": information, "document": {
        "title": "Projet de SCoT", "url": "https://scot.example.org/projet.pdf", "kind": "MAP"}}})
    assert added["addPhaseDocument"]["userErrors"] == []
    # She uploads the draft plan itself, a PDF, to the information phase
    uploaded = await upload(url, odile.token, {"i": {"phaseId": information, "title": "Projet de SCoT arrêté",
                                                     "language": "fr", "file": None}}, PLAN)
    assert uploaded["userErrors"] == [], uploaded
    assert uploaded["document"]["currentVersion"]["contentType"] == "application/pdf"
    # and holds a survey in the call for ideas (open now, answered while the phase runs)
    survey = (await odile.http(CREATE_SURVEY, {"i": {
        "territoryId": territory, "phaseId": debate, "title": "Vos priorités pour 2045", "closesAt": at(86400),
        "questions": [
            {"kind": "SINGLE_CHOICE", "prompt": "Prenez-vous la voiture tous les jours ?", "required": True,
             "options": ["Oui", "Non"]},
            {"kind": "SHORT_TEXT", "prompt": "Qu'est-ce qui vous la ferait laisser ?",
             "showIf": {"questionPosition": 0, "optionPosition": 0}},
        ]}}))["createSurvey"]
    assert survey["userErrors"] == [], survey
    survey_id = survey["survey"]["id"]
    assert (await odile.http(OPEN_SURVEY, {"s": survey_id}))["openSurvey"] == {
        "survey": {"status": "OPEN"}, "userErrors": []}
    # The draft is odile's until published
    assert (await alice.http(PAGE, {"id": consultation["id"]}))["node"] is None
    assert (await alice.http(LIST, {"s": SLUG}))["territory"]["consultations"]["edges"] == []
    assert (await odile.http(PUBLISH, {"c": consultation["id"]}))["publishConsultation"]["consultation"] == {
        "status": "PUBLISHED"}

    # Alice reads it, follows it, and proposes an idea in the call for ideas
    page = (await alice.http(PAGE, {"id": consultation["id"]}))["node"]
    assert page["currentPhase"] == {"title": "Appel à idées"}
    assert page["phases"][0]["documents"][0] == {"title": "Projet de SCoT", "url": "https://scot.example.org/projet.pdf"}
    # She downloads the plan by its URL: the very bytes odile sent
    files = (await alice.http(FILES, {"id": consultation["id"]}))["node"]["phases"]
    plan = files[0]["documents"][1]
    assert plan["title"] == "Projet de SCoT arrêté" and plan["currentVersion"]["size"] == len(PLAN)
    async with httpx.AsyncClient(timeout=30) as client:
        served = await client.get(plan["currentVersion"]["url"])
    assert served.status_code == 200 and served.content == PLAN
    assert served.headers["content-type"] == "application/pdf"
    # She answers the call's survey, the question shown on her first answer included
    [held] = files[1]["surveys"]
    assert held["id"] == survey_id and held["viewerCanSubmit"] == {"allowed": True, "reason": None}
    answered = (await alice.http(SUBMIT, {"i": {"surveyId": survey_id, "answers": [
        {"questionId": held["questions"][0]["id"], "choices": [0]},
        {"questionId": held["questions"][1]["id"], "text": "Un bus toutes les vingt minutes"},
    ]}}))["submitSurvey"]
    assert answered["userErrors"] == [] and answered["survey"]["viewerHasSubmitted"] is True
    assert (await alice.http(FOLLOW, {"s": consultation["id"]}))["follow"]["following"] is True
    proposed = (await alice.http(PROPOSE, {"i": {
        "territoryId": territory, "phaseId": debate, "title": "Des pistes cyclables entre villages",
        "body": "Relier les villages par des voies cyclables sûres."}}))["proposeIdea"]
    assert proposed["userErrors"] == []
    idea = proposed["idea"]["id"]
    # The information phase is over: it takes no idea
    refused = (await alice.http(PROPOSE, {"i": {
        "territoryId": territory, "phaseId": information, "title": "Trop tard", "body": "…"}}))["proposeIdea"]
    assert refused == {"idea": None, "userErrors": [{"code": "PHASE_DOES_NOT_ACCEPT", "field": ["input", "phaseId"]}]}

    # She watches the consultation live: the restitution starts by the clock
    async with await Live.open(url, alice.token) as live:
        op = await live.subscribe(UPDATES, {"c": consultation["id"]})
        first = (await live.next(op))["consultationUpdates"]
        assert first["change"] == "SNAPSHOT" and first["currentPhase"] == {"title": "Appel à idées"}
        moved = (await live.next(op, timeout=switch + 10))["consultationUpdates"]
        assert moved["change"] == "PHASE_CHANGED" and moved["currentPhase"] == {"title": "Restitution"}

    # The call for ideas is over now: PHASE_CLOSED, for its survey too (odile never answered it)
    after = (await odile.http(FILES, {"id": consultation["id"]}))["node"]["phases"][1]["surveys"][0]
    assert after["viewerCanSubmit"] == {"allowed": False, "reason": "PHASE_CLOSED"}
    assert after["results"]["totalSubmissions"] == 1
    late = (await alice.http(PROPOSE, {"i": {
        "territoryId": territory, "phaseId": debate, "title": "Une idée de plus", "body": "…"}}))["proposeIdea"]
    assert late["userErrors"] == [{"code": "PHASE_CLOSED", "field": ["input", "phaseId"]}]
    # The server's clock round told her as a follower and put it in the feed
    for _ in range(50):
        notes = (await alice.http(NOTIFICATIONS))["viewer"]["notifications"]["edges"]
        if any(n["node"]["kind"] == "CONSULTATION_PHASE_STARTED" for n in notes):
            break
        await asyncio.sleep(0.2)
    assert [n["node"]["kind"] for n in notes] == ["CONSULTATION_PHASE_STARTED"]
    assert "Restitution" in notes[0]["node"]["message"]
    feed = (await alice.http(FEED, {"s": SLUG}))["territory"]["feed"]["edges"]
    assert [e["node"] for e in feed[:2]] == [{"__typename": "Consultation", "id": consultation["id"]}] * 2

    # Odile publishes the outcome, linked to alice's idea: alice reads what became of it
    published = (await odile.http(OUTCOME, {"i": {
        "phaseId": restitution, "itemIds": [idea],
        "summary": "Les liaisons cyclables entre villages entrent dans le plan révisé."}}))["publishOutcome"]
    assert published["userErrors"] == []
    page = (await alice.http(PAGE, {"id": consultation["id"]}))["node"]
    assert page["phases"][2]["outcome"] == {
        "summary": "Les liaisons cyclables entre villages entrent dans le plan révisé.", "ideas": [{"id": idea}]}
    assert page["phases"][1]["ideas"][0]["outcomes"] == [
        {"summary": "Les liaisons cyclables entre villages entrent dans le plan révisé."}]
    notes = (await alice.http(NOTIFICATIONS))["viewer"]["notifications"]["edges"]
    assert [n["node"]["kind"] for n in notes] == ["OUTCOME_PUBLISHED", "CONSULTATION_PHASE_STARTED"]
