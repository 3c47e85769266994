"""Attacks on consultations: a draft is the staff's on every path; only the territory's
officials and admins write consultations; a contribution lands only in the phase that
takes it; hidden content in a phase stays hidden; concurrent staff writes keep the rules."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from access.context import Context
from app.api import schema
from models.accounts import Member, Role
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import Outcome as OutcomeRow
from models.consultations import PhaseItem
from models.feed import FeedEntry
from models.ideas import Idea as IdeaRow
from models.questions import Question as QuestionRow
from schema.relay import encode_id
from tests.consultations.stories import (
    ADD_DOCUMENT,
    ADD_PHASE,
    PUBLISH,
    PUBLISH_OUTCOME,
    REMOVE_PHASE,
    UPDATE,
    UPDATE_PHASE,
    ask,
    at,
    codes,
    created,
    page,
    pk_of,
    propose,
    published,
    top_code,
)
from tests.factories import Persona, make_person, make_territory

NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
LIST = """query($s: String!) { territory(slug: $s) { consultations(first: 10) { totalCount edges { node { id } } } } }"""
FOLLOW = "mutation($s: ID!) { follow(input: {subjectId: $s}) { following userErrors { code } } }"
IDEA_OUTCOMES = "query($id: ID!) { node(id: $id) { ... on Idea { outcomes { id summary } } } }"


async def world() -> dict[str, Any]:
    t = await make_territory()
    elsewhere = await make_territory()
    people = {
        "alice": await make_person("alice", t),
        "odile": await make_person("odile", t, Role.OFFICIAL),
        "mona": await make_person("mona", t, Role.MODERATOR),
        "adam": await make_person("adam", t, Role.ADMIN),
        "otto": await make_person("otto", elsewhere, Role.OFFICIAL),
    }
    # Otto, an official elsewhere, is a citizen here
    await Member.create(account=people["otto"].account, territory=t, role=Role.CITIZEN)
    return {"t": t, "elsewhere": elsewhere, **people}


def ids_of(consultation: dict[str, Any]) -> list[str]:
    return [consultation["id"], *(p["id"] for p in consultation["phases"])]


async def test_a_draft_is_seen_by_the_territorys_officials_and_staff_only_on_every_path(gql, app_broker, settings):
    w = await world()
    t, odile = w["t"], w["odile"]
    draft = await created(gql, odile.token, t)
    # Things under the draft: a document, an outcome linked to an idea alice proposed elsewhere
    information, debate = draft["phases"][0]["id"], draft["phases"][1]["id"]
    doc = (await gql(ADD_DOCUMENT, {"input": {"phaseId": information, "document": {
        "title": "SECRET plan", "url": "https://example.org/secret.pdf", "kind": "MAP"}}}, token=odile.token))
    doc_id = doc["data"]["addPhaseDocument"]["phase"]["documents"][0]["id"]
    idea = await IdeaRow.create(territory=t, author=w["alice"].member, title="Open idea", body="b")
    await PhaseItem.create(phase_id=pk_of(debate, "ConsultationPhase"), subject_type="Idea", subject_id=idea.id)
    outcome = await gql(PUBLISH_OUTCOME, {"input": {"phaseId": debate, "summary": "SECRET decision",
                                                    "itemIds": [encode_id("Idea", idea.id)]}}, token=odile.token)
    outcome_id = outcome["data"]["publishOutcome"]["outcome"]["id"]
    every = [*ids_of(draft), doc_id, outcome_id]

    for who in ("anonymous", "alice", "otto"):
        token = w[who].token if who != "anonymous" else None
        for gid in every:
            assert (await gql(NODE, {"id": gid}, token=token))["data"]["node"] is None, (who, gid)
        assert (await gql(NODES, {"ids": every}, token=token))["data"]["nodes"] == [None] * len(every)
        listed = (await gql(LIST, {"s": t.slug}, token=token))["data"]["territory"]["consultations"]
        assert listed == {"totalCount": 0, "edges": []}
        # The idea is alice's and open; the draft's outcome about it is not shown
        assert (await gql(IDEA_OUTCOMES, {"id": encode_id("Idea", idea.id)}, token=token))["data"]["node"] == {
            "outcomes": []}
        # The live stream does not tell a draft from nothing
        ctx = Context(request=None, response=None, broker=app_broker, settings=settings,
                      account=w[who].account if who != "anonymous" else None)
        stream = await schema.subscribe(
            "subscription($c: ID!) { consultationUpdates(consultationId: $c) { change } }",
            variable_values={"c": draft["id"]}, context_value=ctx,
        )
        first = await stream.__anext__()  # type: ignore[union-attr]
        assert [e.extensions["code"] for e in first.errors] == ["NOT_FOUND"]  # type: ignore[union-attr, index]
    for who in ("alice", "otto"):
        followed = await gql(FOLLOW, {"s": draft["id"]}, token=w[who].token)
        assert followed["data"]["follow"] == {"following": False, "userErrors": [{"code": "NOT_FOUND"}]}
        # Contributing in a draft's phase: as unknown as any other id (not PHASE_CLOSED)
        assert codes(await propose(gql, w[who].token, t, debate)) == [("NOT_FOUND", ["input", "phaseId"])]
    # Nothing of the draft entered the feed
    assert not await FeedEntry.filter(territory_id=t.id, subject_type="Consultation").exists()
    # Its writers and the staff see it all
    for who in ("odile", "mona", "adam"):
        for gid in every:
            assert (await gql(NODE, {"id": gid}, token=w[who].token))["data"]["node"] == {"id": gid}, (who, gid)
        listed = (await gql(LIST, {"s": t.slug}, token=w[who].token))["data"]["territory"]["consultations"]
        assert listed["totalCount"] == 1
    # Odile herself is refused a contribution in her own draft, with the reason
    assert codes(await propose(gql, odile.token, t, debate)) == [("PHASE_CLOSED", ["input", "phaseId"])]


async def test_only_officials_and_admins_of_the_territory_write_consultations(gql):
    w = await world()
    t, odile = w["t"], w["odile"]
    consultation = await published(gql, odile.token, t)
    draft = await created(gql, odile.token, t, title="Draft")
    phase = consultation["phases"][2]["id"]
    before = await ConsultationRow.filter(territory_id=t.id).order_by("id").values_list("title", "status", "updated_at")
    phases_before = await PhaseRow.filter(consultation__territory_id=t.id).order_by("id").values_list("title", "starts_at", "ends_at")

    async def attempts(token: str | None, consultation_id: str, phase_id: str) -> list[dict[str, Any]]:
        phase_input = {"kind": "VOTE", "title": "X", "description": "d", "startsAt": at(days=50), "endsAt": at(days=60)}
        return [
            await gql(UPDATE, {"input": {"consultationId": consultation_id, "title": "Hacked"}}, token=token),
            await gql(PUBLISH, {"input": {"consultationId": consultation_id}}, token=token),
            await gql(ADD_PHASE, {"input": {"consultationId": consultation_id, "phase": phase_input}}, token=token),
            await gql(UPDATE_PHASE, {"input": {"phaseId": phase_id, "title": "Hacked"}}, token=token),
            await gql(REMOVE_PHASE, {"input": {"phaseId": phase_id}}, token=token),
            await gql(ADD_DOCUMENT, {"input": {"phaseId": phase_id, "document": {
                "title": "x", "url": "https://example.org/x", "kind": "MAP"}}}, token=token),
            await gql(PUBLISH_OUTCOME, {"input": {"phaseId": phase_id, "summary": "Hacked", "itemIds": []}},
                      token=token),
        ]

    create = ("mutation($i: CreateConsultationInput!) { createConsultation(input: $i) { userErrors { code } } }")
    assert top_code(await gql(create, {"i": {"territoryId": encode_id("Territory", t.id), "title": "x",
                                             "summary": "x"}})) == "UNAUTHENTICATED"
    for who in ("alice", "mona", "otto"):
        person: Persona = w[who]
        assert top_code(await gql(create, {"i": {"territoryId": encode_id("Territory", t.id), "title": "x",
                                                 "summary": "x"}}, token=person.token)) == "FORBIDDEN"
        # On a published consultation: FORBIDDEN
        for result in await attempts(person.token, consultation["id"], phase):
            assert top_code(result) == "FORBIDDEN", (who, result)
    # On a draft they cannot see: NOT_FOUND (for a citizen), FORBIDDEN for the moderator who sees it
    for result in await attempts(w["alice"].token, draft["id"], draft["phases"][2]["id"]):
        payload = next(iter(result["data"].values()))
        assert payload["userErrors"][0]["code"] == "NOT_FOUND", result
    for result in await attempts(None, consultation["id"], phase):
        assert top_code(result) == "UNAUTHENTICATED"
    # Otto, an official elsewhere, is no official here
    assert top_code(await gql(create, {"i": {"territoryId": encode_id("Territory", t.id), "title": "x",
                                             "summary": "x"}}, token=w["otto"].token)) == "FORBIDDEN"
    # Nothing changed
    assert await ConsultationRow.filter(territory_id=t.id).order_by("id").values_list(
        "title", "status", "updated_at") == before
    assert await PhaseRow.filter(consultation__territory_id=t.id).order_by("id").values_list(
        "title", "starts_at", "ends_at") == phases_before
    assert not await OutcomeRow.filter(phase__consultation__territory_id=t.id).exists()


async def test_contributions_land_only_in_the_phase_that_takes_them(gql):
    w = await world()
    t, odile, alice = w["t"], w["odile"], w["alice"]
    consultation = await published(gql, odile.token, t)
    information, debate, restitution = (p["id"] for p in consultation["phases"])
    foreign = await published(gql, (await make_person("olga", w["elsewhere"], Role.OFFICIAL)).token, w["elsewhere"])
    await make_person("alice2", w["elsewhere"])

    # A phase of another territory, a phase id of another kind, garbage
    for phase_id in (foreign["phases"][1]["id"], consultation["id"], "garbage", encode_id("ConsultationPhase", 10**6)):
        assert codes(await propose(gql, alice.token, t, phase_id)) == [("NOT_FOUND", ["input", "phaseId"])]
        assert codes(await ask(gql, alice.token, t, phase_id)) == [("NOT_FOUND", ["input", "phaseId"])]
    assert codes(await propose(gql, alice.token, t, information)) == [("PHASE_DOES_NOT_ACCEPT", ["input", "phaseId"])]
    assert codes(await ask(gql, alice.token, t, restitution)) == [("PHASE_DOES_NOT_ACCEPT", ["input", "phaseId"])]
    assert codes(await ask(gql, alice.token, t, information)) == [("PHASE_CLOSED", ["input", "phaseId"])]
    # Refused means nothing written: no idea, no question, no link
    assert await IdeaRow.filter(territory_id=t.id).count() == 0
    assert await QuestionRow.filter(territory_id=t.id).count() == 0
    assert await PhaseItem.filter(phase__consultation__territory_id=t.id).count() == 0
    # A stranger to the territory is not a member, phase or not
    stranger = await make_person("sam")
    assert codes(await propose(gql, stranger.token, t, debate)) == [("NOT_A_MEMBER", ["input", "territoryId"])]
    # An outcome may not claim items of another consultation
    idea = (await propose(gql, alice.token, t, debate))["idea"]
    other = await published(gql, odile.token, t, title="Other")
    refused = await gql(PUBLISH_OUTCOME, {"input": {"phaseId": other["phases"][2]["id"], "summary": "x",
                                                    "itemIds": [idea["id"]]}}, token=odile.token)
    assert codes(refused["data"]["publishOutcome"]) == [("NOT_FOUND", ["input", "itemIds", "0"])]


async def test_hidden_ideas_in_a_phase_stay_hidden(gql):
    w = await world()
    t, odile, alice = w["t"], w["odile"], w["alice"]
    consultation = await published(gql, odile.token, t)
    debate, restitution = consultation["phases"][1]["id"], consultation["phases"][2]["id"]
    shown = (await propose(gql, alice.token, t, debate, title="Open idea"))["idea"]
    hidden = (await propose(gql, alice.token, t, debate, title="SECRET idea"))["idea"]
    await gql(PUBLISH_OUTCOME, {"input": {"phaseId": restitution, "summary": "Both answered.",
                                          "itemIds": [shown["id"], hidden["id"]]}}, token=odile.token)
    await IdeaRow.filter(id=pk_of(hidden["id"], "Idea")).update(hidden=True)

    for who in ("alice", "otto", "odile"):
        seen = await page(gql, w[who].token, consultation["id"])
        assert [i["title"] for i in seen["phases"][1]["ideas"]] == ["Open idea"], who
        assert seen["phases"][2]["outcome"]["ideas"] == [{"id": shown["id"]}], who
    assert "SECRET" not in str(await page(gql, None, consultation["id"]))
    seen = await page(gql, w["mona"].token, consultation["id"])
    assert [i["title"] for i in seen["phases"][1]["ideas"]] == ["SECRET idea", "Open idea"]
    # And an outcome cannot be made to point at it by those who may not see it
    refused = await gql(PUBLISH_OUTCOME, {"input": {"phaseId": restitution, "summary": "x",
                                                    "itemIds": [hidden["id"]]}}, token=odile.token)
    assert codes(refused["data"]["publishOutcome"]) == [("NOT_FOUND", ["input", "itemIds", "0"])]


async def test_concurrent_overlapping_phases_and_outcomes_keep_the_rules(gql):
    w = await world()
    t, odile = w["t"], w["odile"]
    consultation = await created(gql, odile.token, t, phases=[])
    phase_input = {"kind": "DEBATE", "title": "Twin", "description": "d", "startsAt": at(days=1), "endsAt": at(days=5)}

    results = await asyncio.gather(*(
        gql(ADD_PHASE, {"input": {"consultationId": consultation["id"], "phase": phase_input}}, token=odile.token)
        for _ in range(6)
    ))

    accepted = [r for r in results if r["data"]["addConsultationPhase"]["userErrors"] == []]
    assert len(accepted) == 1
    assert {codes(r["data"]["addConsultationPhase"])[0][0] for r in results if r not in accepted} == {"PHASES_OVERLAP"}
    assert await PhaseRow.filter(consultation_id=pk_of(consultation["id"], "Consultation")).count() == 1
    phase = accepted[0]["data"]["addConsultationPhase"]["phase"]["id"]
    outcomes = await asyncio.gather(*(
        gql(PUBLISH_OUTCOME, {"input": {"phaseId": phase, "summary": f"Take {i}", "itemIds": []}}, token=odile.token)
        for i in range(6)
    ))
    assert all("errors" not in r and r["data"]["publishOutcome"]["userErrors"] == [] for r in outcomes), outcomes
    assert await OutcomeRow.filter(phase_id=pk_of(phase, "ConsultationPhase")).count() == 1


async def test_publishing_twice_at_once_enters_the_feed_once(gql):
    w = await world()
    consultation = await created(gql, w["odile"].token, w["t"])
    await asyncio.gather(*(
        gql(PUBLISH, {"input": {"consultationId": consultation["id"]}}, token=w["odile"].token) for _ in range(5)
    ))
    assert await FeedEntry.filter(subject_type="Consultation",
                                  subject_id=pk_of(consultation["id"], "Consultation")).count() == 1
    assert dt.datetime.now(dt.UTC) >= (await ConsultationRow.get(id=pk_of(consultation["id"], "Consultation"))
                                       ).published_at
