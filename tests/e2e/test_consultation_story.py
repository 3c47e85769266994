"""The SCoT revision, over the API of a real `python server.py serve`: odile the official
prepares a consultation in phases and publishes it; alice the citizen reads it, proposes an
idea in the call for ideas, is refused in a phase that is over, watches the next phase start
live over a websocket (nobody presses a button: the clock moves it), is told of it as a
follower, and reads the outcome linked to her idea."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

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
    with ServerProcess(db, **server_env(), PARVIS_POLL_CLOSER_SECONDS="0.3") as process:
        yield process


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
    switch = 12.0
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
    # The draft is odile's until published
    assert (await alice.http(PAGE, {"id": consultation["id"]}))["node"] is None
    assert (await alice.http(LIST, {"s": SLUG}))["territory"]["consultations"]["edges"] == []
    assert (await odile.http(PUBLISH, {"c": consultation["id"]}))["publishConsultation"]["consultation"] == {
        "status": "PUBLISHED"}

    # Alice reads it, follows it, and proposes an idea in the call for ideas
    page = (await alice.http(PAGE, {"id": consultation["id"]}))["node"]
    assert page["currentPhase"] == {"title": "Appel à idées"}
    assert page["phases"][0]["documents"] == [{"title": "Projet de SCoT", "url": "https://scot.example.org/projet.pdf"}]
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

    # The call for ideas is over now: PHASE_CLOSED
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
