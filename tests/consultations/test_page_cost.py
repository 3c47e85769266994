"""A consultation page, its phases and every phase's items, costs the same statements
whatever its size (the way tests/test_query_count.py holds the home page)."""

from __future__ import annotations

import datetime as dt

from models.accounts import Role
from models.consultations import (
    Consultation,
    ConsultationPhase,
    ConsultationStatus,
    Outcome,
    OutcomeItem,
    PhaseItem,
    PhaseKind,
)
from models.ideas import Idea
from models.polls import Poll, PollOption
from models.projects import Document, DocumentKind, DocumentVersion
from models.questions import Question
from models.surveys import QuestionKind, Survey, SurveyQuestion
from models.territories import Territory
from schema.relay import encode_id
from tests.factories import make_person, make_territory
from tests.test_query_count import count_queries

PAGE = """query($id: ID!) { node(id: $id) { ... on Consultation {
  id title status url territory { name } currentPhase { id title }
  phases {
    id kind title state isCurrent position startsAt endsAt
    documents { title url kind currentVersion { url size } versions { number } }
    surveys { id title status viewerHasSubmitted questions { prompt options { label } } results { totalSubmissions } }
    ideas { id title supportCount author { displayName } outcomes { id summary } }
    questions { id title status author { displayName } }
    polls { id question status options { label } }
    outcome { summary ideas { id } questions { id } polls { id } }
  }
} } }"""


async def fill(territory: Territory, phases: int, items: int) -> str:
    odile = await make_person("odile", territory, Role.OFFICIAL)
    citizens = [await make_person(f"alice{i}", territory) for i in range(3)]
    assert odile.member is not None
    now = dt.datetime.now(dt.UTC)
    consultation = await Consultation.create(
        territory=territory, created_by=odile.member, title="SCoT", summary="s", status=ConsultationStatus.PUBLISHED,
        published_at=now,
    )
    for p in range(phases):
        phase = await ConsultationPhase.create(
            consultation=consultation, kind=PhaseKind.DEBATE, title=f"Phase {p}", description="d",
            starts_at=now + dt.timedelta(days=p - 1), ends_at=now + dt.timedelta(days=p), accepts_ideas=True,
        )
        outcome = await Outcome.create(phase=phase, published_by=odile.member, summary=f"Outcome {p}")
        for i in range(items):
            author = citizens[i % 3].member
            idea = await Idea.create(territory=territory, author=author, title=f"Idea {p}.{i}", body="b",
                                     hidden=i == 1)
            question = await Question.create(territory=territory, author=author, title=f"Q {p}.{i}", body="b",
                                             due_at=now + dt.timedelta(days=15))
            poll = await Poll.create(territory=territory, created_by=odile.member, question=f"Poll {p}.{i}",
                                     opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=1))
            await PollOption.create(poll=poll, position=0, label="Yes")
            document = await Document.create(phase=phase, title=f"Doc {p}.{i}", url="https://example.org/d.pdf",
                                             kind=DocumentKind.REPORT)
            if i % 2:  # a file document, with its version
                await DocumentVersion.create(document=document, number=1, key=f"documents/{document.id}/d.pdf",
                                             filename="d.pdf", content_type="application/pdf", size=10, sha256="0")
            survey = await Survey.create(
                territory=territory, phase=phase, created_by=odile.member, title=f"Survey {p}.{i}",
                opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=1), published_at=now, tally={},
            )
            await SurveyQuestion.create(survey=survey, position=0, kind=QuestionKind.SINGLE_CHOICE, prompt="Yes?",
                                        options=["Yes", "No"])
            for kind, pk in (("Idea", idea.id), ("Question", question.id), ("Poll", poll.id)):
                await PhaseItem.create(phase=phase, subject_type=kind, subject_id=pk)
                await OutcomeItem.create(outcome=outcome, subject_type=kind, subject_id=pk)
    return encode_id("Consultation", consultation.id)


async def test_a_consultation_page_costs_the_same_statements_whatever_its_size(gql):
    small, large = await make_territory(), await make_territory()
    small_id = await fill(small, phases=2, items=2)
    large_id = await fill(large, phases=6, items=8)
    viewer = await make_person("viewer", small)
    await make_person("viewer", large)

    with count_queries() as few:
        small_page = await gql(PAGE, {"id": small_id}, token=viewer.token)
    with count_queries() as many:
        large_page = await gql(PAGE, {"id": large_id}, token=viewer.token)

    assert "errors" not in small_page and "errors" not in large_page, large_page
    phases = large_page["data"]["node"]["phases"]
    assert len(phases) == 6
    # (the hidden idea of each phase is left out for a citizen)
    assert {len(p["ideas"]) for p in phases} == {7} and {len(p["polls"]) for p in phases} == {8}
    assert {len(p["documents"]) for p in phases} == {8} and {len(p["surveys"]) for p in phases} == {8}
    assert phases[0]["documents"][1]["currentVersion"]["url"].endswith("/d.pdf")
    assert len(phases[0]["ideas"][0]["outcomes"]) == 1
    # No more statements for three times the phases and four times the items (the loaders'
    # batches may split differently on a small page: one statement more there is not growth).
    assert len(many.queries) <= len(few.queries), "\n".join(["FEW", *few.queries, "MANY", *many.queries])
    assert len(many.queries) <= 25, "\n".join(many.queries)
