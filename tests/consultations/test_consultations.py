"""Consultations in phases: odile the official prepares and publishes the SCoT revision,
alice the citizen takes part in the phase that takes her contribution, the clock moves the
phases, and the outcome tells alice what became of her idea."""

from __future__ import annotations

import datetime as dt

from access.context import Context
from models.accounts import Role
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import PhaseItem
from models.feed import FeedEntry
from models.ideas import Idea as IdeaRow
from models.notifications import Notification
from models.polls import Poll as PollRow
from models.questions import Question as QuestionRow
from resolvers.consultations.clock import do_announce_due_phases
from schema.relay import encode_id
from tests.consultations.stories import (
    ADD_DOCUMENT,
    ADD_PHASE,
    ATTACH_POLL,
    LIST,
    PUBLISH,
    PUBLISH_OUTCOME,
    REMOVE_PHASE,
    UPDATE,
    UPDATE_PHASE,
    ask,
    at,
    codes,
    create,
    created,
    page,
    pk_of,
    propose,
    published,
)
from tests.factories import make_person, make_territory


async def test_odile_creates_a_draft_with_ordered_phases_and_publishes_it(gql, settings):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)

    draft = await created(gql, odile.token, t)

    assert draft["status"] == "DRAFT" and draft["publishedAt"] is None
    assert [(p["kind"], p["position"], p["state"]) for p in draft["phases"]] == [
        ("INFORMATION", 1, "PAST"), ("DEBATE", 2, "CURRENT"), ("RESTITUTION", 3, "UPCOMING"),
    ]
    assert [(p["acceptsIdeas"], p["acceptsQuestions"]) for p in draft["phases"]] == [
        (False, True), (True, True), (False, False),
    ]
    assert draft["currentPhase"]["title"] == "Call for ideas"
    assert draft["url"] == f"{settings.public_url}/consultations/{draft['id']}"
    # A draft is the staff's: alice does not see it, on the list or by its id
    assert await page(gql, alice.token, draft["id"]) is None
    listed = await gql(LIST, {"slug": t.slug}, token=alice.token)
    assert listed["data"]["territory"]["consultations"]["totalCount"] == 0

    result = await gql(PUBLISH, {"input": {"consultationId": draft["id"]}}, token=odile.token)

    consultation = result["data"]["publishConsultation"]["consultation"]
    assert consultation["status"] == "PUBLISHED" and consultation["publishedAt"] is not None
    assert (await page(gql, alice.token, draft["id"]))["title"] == "Révision du SCoT"
    listed = await gql(LIST, {"slug": t.slug}, token=alice.token)
    assert listed["data"]["territory"]["consultations"]["totalCount"] == 1
    # It entered the feed once; publishing again changes nothing
    again = await gql(PUBLISH, {"input": {"consultationId": draft["id"]}}, token=odile.token)
    assert again["data"]["publishConsultation"]["userErrors"] == []
    assert await FeedEntry.filter(subject_type="Consultation", subject_id=pk_of(draft["id"], "Consultation")).count() == 1
    # Phases already started were announced by the publication itself
    assert not await PhaseRow.filter(consultation_id=pk_of(draft["id"], "Consultation"),
                                     starts_at__lte=dt.datetime.now(dt.UTC), start_announced=False).exists()


async def test_phases_must_be_ordered_and_must_not_overlap(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    overlapping = [
        {"kind": "INFORMATION", "title": "One", "description": "d", "startsAt": at(days=1), "endsAt": at(days=5)},
        {"kind": "DEBATE", "title": "Two", "description": "d", "startsAt": at(days=4), "endsAt": at(days=8)},
    ]
    result = await create(gql, odile.token, t, phases=overlapping)
    assert codes(result["data"]["createConsultation"]) == [("PHASES_OVERLAP", ["input", "phases", "1"])]
    backwards = [{"kind": "DEBATE", "title": "One", "description": "d", "startsAt": at(days=5), "endsAt": at(days=1)}]
    result = await create(gql, odile.token, t, phases=backwards)
    assert codes(result["data"]["createConsultation"]) == [("INVALID", ["input", "phases", "0", "endsAt"])]
    assert await ConsultationRow.filter(territory_id=t.id).count() == 0

    consultation = await created(gql, odile.token, t)
    restitution = consultation["phases"][2]
    # Moving the restitution into the call for ideas
    moved = await gql(UPDATE_PHASE, {"input": {"phaseId": restitution["id"], "startsAt": at(days=5)}},
                      token=odile.token)
    assert codes(moved["data"]["updateConsultationPhase"]) == [("PHASES_OVERLAP", ["input", "startsAt"])]
    ends_first = await gql(UPDATE_PHASE, {"input": {"phaseId": restitution["id"], "endsAt": at(days=9)}},
                           token=odile.token)
    assert codes(ends_first["data"]["updateConsultationPhase"]) == [("INVALID", ["input", "endsAt"])]
    added = await gql(ADD_PHASE, {"input": {"consultationId": consultation["id"], "phase": {
        "kind": "VOTE", "title": "Vote", "description": "d", "startsAt": at(days=29), "endsAt": at(days=40)}}},
        token=odile.token)
    assert codes(added["data"]["addConsultationPhase"]) == [("PHASES_OVERLAP", ["input", "phase", "startsAt"])]
    assert await PhaseRow.filter(consultation_id=pk_of(consultation["id"], "Consultation")).count() == 3

    # Touching windows do not overlap; a phase may be renamed and widened
    added = await gql(ADD_PHASE, {"input": {"consultationId": consultation["id"], "phase": {
        "kind": "VOTE", "title": "Vote", "description": "d",
        "startsAt": restitution["endsAt"], "endsAt": at(days=40)}}}, token=odile.token)
    assert added["data"]["addConsultationPhase"]["userErrors"] == []
    assert added["data"]["addConsultationPhase"]["phase"]["position"] == 4
    renamed = await gql(UPDATE_PHASE, {"input": {"phaseId": restitution["id"], "title": "Restitution publique"}},
                        token=odile.token)
    assert renamed["data"]["updateConsultationPhase"]["phase"]["title"] == "Restitution publique"


async def test_a_started_phase_of_a_published_consultation_stays(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    consultation = await published(gql, odile.token, t)
    debate, restitution = consultation["phases"][1], consultation["phases"][2]

    refused = await gql(REMOVE_PHASE, {"input": {"phaseId": debate["id"]}}, token=odile.token)
    assert codes(refused["data"]["removeConsultationPhase"]) == [("PHASE_STARTED", ["input", "phaseId"])]
    removed = await gql(REMOVE_PHASE, {"input": {"phaseId": restitution["id"]}}, token=odile.token)
    assert [p["title"] for p in removed["data"]["removeConsultationPhase"]["consultation"]["phases"]] == [
        "Information", "Call for ideas",
    ]


async def test_alice_contributes_only_in_the_phase_that_takes_it(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    consultation = await published(gql, odile.token, t)
    information, debate, restitution = consultation["phases"]

    proposed = await propose(gql, alice.token, t, debate["id"])
    assert proposed["userErrors"] == []
    # The information phase is past and takes no ideas; the restitution takes none either
    assert codes(await propose(gql, alice.token, t, information["id"])) == [
        ("PHASE_DOES_NOT_ACCEPT", ["input", "phaseId"])]
    assert codes(await propose(gql, alice.token, t, restitution["id"])) == [
        ("PHASE_DOES_NOT_ACCEPT", ["input", "phaseId"])]
    # Questions: the past information phase is closed, the current debate takes them
    assert codes(await ask(gql, alice.token, t, information["id"])) == [("PHASE_CLOSED", ["input", "phaseId"])]
    asked = await ask(gql, alice.token, t, debate["id"])
    assert asked["userErrors"] == []
    # A phase of another territory is unknown here
    elsewhere = await make_territory()
    assert codes(await propose(gql, alice.token, elsewhere, debate["id"])) in (
        [("NOT_A_MEMBER", ["input", "territoryId"])], [("NOT_FOUND", ["input", "phaseId"])])

    assert await IdeaRow.filter(territory_id=t.id).count() == 1
    assert await QuestionRow.filter(territory_id=t.id).count() == 1
    shown = await page(gql, alice.token, consultation["id"])
    assert [i["title"] for i in shown["phases"][1]["ideas"]] == ["Shaded squares"]
    assert [q["title"] for q in shown["phases"][1]["questions"]] == ["Which villages densify?"]
    assert shown["phases"][0]["ideas"] == []


async def test_an_upcoming_phase_is_closed_to_contributions_until_the_clock_reaches_it(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    phases = [{"kind": "DEBATE", "title": "Later", "description": "d", "startsAt": at(days=1), "endsAt": at(days=2)}]
    consultation = await published(gql, odile.token, t, phases=phases)
    phase_id = consultation["phases"][0]["id"]

    assert codes(await propose(gql, alice.token, t, phase_id)) == [("PHASE_CLOSED", ["input", "phaseId"])]
    await PhaseRow.filter(id=pk_of(phase_id, "ConsultationPhase")).update(
        starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert (await propose(gql, alice.token, t, phase_id))["userErrors"] == []
    # A closed consultation takes nothing any more
    await gql(UPDATE, {"input": {"consultationId": consultation["id"], "closed": True}}, token=odile.token)
    assert codes(await propose(gql, alice.token, t, phase_id)) == [("PHASE_CLOSED", ["input", "phaseId"])]
    assert await IdeaRow.filter(territory_id=t.id).count() == 1


async def test_documents_and_polls_in_a_phase(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    consultation = await published(gql, odile.token, t)
    information = consultation["phases"][0]
    poll = await PollRow.create(territory=t, created_by=odile.member, question="Which scenario?",
                                opens_at=dt.datetime.now(dt.UTC), closes_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))

    added = await gql(ADD_DOCUMENT, {"input": {"phaseId": information["id"], "document": {
        "title": "Projet de SCoT arrêté", "url": "https://scot.example.org/projet.pdf", "kind": "MAP"}}},
        token=odile.token)
    attached = await gql(ATTACH_POLL, {"input": {"phaseId": information["id"], "pollId": encode_id("Poll", poll.id)}},
                         token=odile.token)

    assert added["data"]["addPhaseDocument"]["phase"]["documents"] == [{
        "id": added["data"]["addPhaseDocument"]["phase"]["documents"][0]["id"],
        "title": "Projet de SCoT arrêté", "url": "https://scot.example.org/projet.pdf", "kind": "MAP"}]
    assert attached["data"]["attachPollToPhase"]["phase"]["polls"] == [{"id": encode_id("Poll", poll.id),
                                                                       "question": "Which scenario?"}]
    # A poll belongs to one phase
    again = await gql(ATTACH_POLL, {"input": {"phaseId": consultation["phases"][1]["id"], "pollId": encode_id("Poll", poll.id)}},
                      token=odile.token)
    assert codes(again["data"]["attachPollToPhase"]) == [("TAKEN", ["input", "pollId"])]
    assert await PhaseItem.filter(subject_type="Poll", subject_id=poll.id).count() == 1


async def test_the_outcome_tells_alice_what_became_of_her_idea(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    consultation = await published(gql, odile.token, t)
    debate, restitution = consultation["phases"][1], consultation["phases"][2]
    idea = (await propose(gql, alice.token, t, debate["id"]))["idea"]
    question = (await ask(gql, alice.token, t, debate["id"]))["question"]
    stray = (await propose(gql, alice.token, t, None, title="Not in the consultation"))["idea"]

    # An item outside the consultation is refused with its index
    refused = await gql(PUBLISH_OUTCOME, {"input": {"phaseId": restitution["id"], "summary": "Decided.",
                                                    "itemIds": [idea["id"], stray["id"]]}}, token=odile.token)
    assert codes(refused["data"]["publishOutcome"]) == [
        ("NOT_FOUND", ["input", "itemIds", "1"])]

    result = await gql(PUBLISH_OUTCOME, {"input": {
        "phaseId": restitution["id"], "summary": "Squares get trees in the revised plan: heat islands are a priority.",
        "itemIds": [idea["id"], question["id"], idea["id"]]}}, token=odile.token)

    outcome = result["data"]["publishOutcome"]["outcome"]
    assert [i["id"] for i in outcome["ideas"]] == [idea["id"]]
    assert [q["id"] for q in outcome["questions"]] == [question["id"]]
    shown = await page(gql, alice.token, consultation["id"])
    assert shown["phases"][2]["outcome"]["summary"].startswith("Squares get trees")
    assert [o["id"] for o in shown["phases"][1]["ideas"][0]["outcomes"]] == [outcome["id"]]
    notes = await Notification.filter(account_id=alice.account.id, kind="OUTCOME_PUBLISHED").values_list(
        "subject_type", flat=True)
    assert notes == ["Idea"]  # one per author, pointing at what it answers

    # Publishing again replaces the summary and the links
    again = await gql(PUBLISH_OUTCOME, {"input": {"phaseId": restitution["id"], "summary": "Revised.",
                                                  "itemIds": [question["id"]]}}, token=odile.token)
    assert again["data"]["publishOutcome"]["outcome"]["id"] == outcome["id"]
    assert again["data"]["publishOutcome"]["outcome"]["ideas"] == []
    shown = await page(gql, alice.token, consultation["id"])
    assert shown["phases"][1]["ideas"][0]["outcomes"] == []


async def test_the_clock_announces_a_phase_to_the_feed_and_to_followers(gql, app_broker, settings):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    phases = [{"kind": "DEBATE", "title": "Call for ideas", "description": "d", "startsAt": at(days=1),
               "endsAt": at(days=2)}]
    consultation = await published(gql, odile.token, t, phases=phases)
    pk = pk_of(consultation["id"], "Consultation")
    followed = await gql('mutation($i: FollowInput!) { follow(input: $i) { following userErrors { code } } }',
                         {"i": {"subjectId": consultation["id"]}}, token=alice.token)
    assert followed["data"]["follow"]["following"] is True
    ctx = Context(request=None, response=None, broker=app_broker, settings=settings)

    # Nothing is due before the phase starts
    await do_announce_due_phases(ctx)
    assert await Notification.filter(account_id=alice.account.id).count() == 0
    await PhaseRow.filter(consultation_id=pk).update(starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    feed_before = await FeedEntry.filter(subject_type="Consultation", subject_id=pk).count()

    # Twice, as two processes would: announced once
    await do_announce_due_phases(ctx)
    await do_announce_due_phases(ctx)

    assert await FeedEntry.filter(subject_type="Consultation", subject_id=pk).count() == feed_before + 1
    notes = await Notification.filter(account_id=alice.account.id).values_list("kind", "subject_type", "subject_id")
    assert notes == [("CONSULTATION_PHASE_STARTED", "Consultation", pk)]


HINTS = """query($id: ID!) { node(id: $id) { ... on Consultation { phases {
  id viewerCanProposeIdea { allowed reason } viewerCanAskQuestion { allowed reason } } } } }"""


async def test_the_hints_say_before_the_click_what_the_mutations_answer(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    sam = await make_person("sam")  # no member
    consultation = await published(gql, odile.token, t)

    for person in (None, sam, alice):
        token = person.token if person else None
        hints = (await gql(HINTS, {"id": consultation["id"]}, token=token))["data"]["node"]["phases"]
        for phase in hints:
            for hint, act in (("viewerCanProposeIdea", propose), ("viewerCanAskQuestion", ask)):
                if person is None:
                    assert phase[hint] == {"allowed": False, "reason": "UNAUTHENTICATED"}
                    continue
                answer = await act(gql, token, t, phase["id"])
                got = answer["userErrors"][0]["code"] if answer["userErrors"] else None
                assert phase[hint] == {"allowed": got is None, "reason": got}, (person.account.display_name, hint)
    hints = (await gql(HINTS, {"id": consultation["id"]}, token=alice.token))["data"]["node"]["phases"]
    assert [p["viewerCanProposeIdea"]["reason"] for p in hints] == ["PHASE_DOES_NOT_ACCEPT", None,
                                                                    "PHASE_DOES_NOT_ACCEPT"]
    assert [p["viewerCanAskQuestion"]["reason"] for p in hints] == ["PHASE_CLOSED", None, "PHASE_DOES_NOT_ACCEPT"]


async def test_a_phase_lists_the_newest_items_it_may_show(gql):
    t = await make_territory()
    odile = await make_person("odile", t, Role.OFFICIAL)
    alice = await make_person("alice", t)
    consultation = await published(gql, odile.token, t)
    debate = consultation["phases"][1]["id"]
    titles = [f"Idea {n}" for n in range(5)]
    ideas = [(await propose(gql, alice.token, t, debate, title=title))["idea"] for title in titles]
    # The two newest are hidden by a moderator
    for idea in ideas[3:]:
        await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)
    query = """query($id: ID!, $n: Int) { node(id: $id) { ... on Consultation { phases { ideas(first: $n) { title } } } } }"""

    async def listed(n: int | None) -> list[str]:
        result = await gql(query, {"id": consultation["id"], "n": n}, token=alice.token)
        return [i["title"] for i in result["data"]["node"]["phases"][1]["ideas"]]

    assert await listed(2) == ["Idea 2", "Idea 1"]
    assert await listed(None) == ["Idea 2", "Idea 1", "Idea 0"]
    assert await listed(0) == []
    assert await listed(500) == ["Idea 2", "Idea 1", "Idea 0"]
