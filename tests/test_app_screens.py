"""docs/app-screens.md runs: each operation in it answers without error on the seeded demo,
signed in as a demo citizen (and the queries anonymously too)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.files import file_links, file_store
from app.settings import Settings
from demo import content as text
from demo.seed import SeedRefused, do_seed_demo
from models.accounts import Member, Role
from models.consultations import Consultation
from models.polls import Poll, PollOption
from models.questions import Question, QuestionStatus
from models.territories import Territory
from schema.relay import encode_id

DOC = Path(__file__).resolve().parent.parent / "docs" / "app-screens.md"
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
NAME = re.compile(r"^(query|mutation)\s+(\w+)", re.M)
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }"


def operations() -> dict[str, tuple[str, str]]:
    """name -> (kind, document) of every operation in the doc."""
    found = {}
    for document in BLOCK.findall(DOC.read_text()):
        match = NAME.search(document)
        assert match, document
        found[match.group(2)] = (match.group(1), document)
    return found


@pytest.fixture(scope="module")
async def demo(settings: Settings) -> Territory:
    try:
        await do_seed_demo(scale=1, files=file_links(settings, file_store(settings)))
    except SeedRefused as refused:
        if "already exists" not in str(refused):  # seeded earlier in this session: the same demo
            raise
    return await Territory.get(slug=text.SLUG)


async def variables_for(name: str, territory: Territory, citizen: Member) -> dict[str, Any]:
    """What an app would pass, picked from the demo: the citizen's own open question, a poll open now."""
    poll = await Poll.filter(territory_id=territory.id, closed_at__isnull=True, hidden=False).order_by("-id").first()
    assert poll is not None
    option = await PollOption.filter(poll_id=poll.id).order_by("position").first()
    assert option is not None
    own = await Question.filter(author_id=citizen.id).order_by("-id").first()
    question = own or await Question.filter(territory_id=territory.id, hidden=False).order_by("-id").first()
    assert question is not None
    consultation = await Consultation.get(territory_id=territory.id)
    return {
        "Home": {"slug": territory.slug},
        "OfficialsToDo": {"slug": territory.slug, "after": None},
        "QuestionDetail": {"id": encode_id("Question", question.id)},
        "EditQuestion": {"input": {"questionId": encode_id("Question", question.id), "title": question.title}},
        "MyActivity": {},
        "StaffLists": {"slug": territory.slug, "authorId": encode_id("Member", citizen.id),
                       "since": "2020-01-01T00:00:00+00:00", "until": "2100-01-01T00:00:00Z"},
        "ByReference": {"slug": territory.slug, "reference": question.reference},
        "RateLimitBudget": {},
        "PollScreen": {"id": encode_id("Poll", poll.id)},
        "Vote": {"input": {"pollId": encode_id("Poll", poll.id), "optionIds": [encode_id("PollOption", option.id)]}},
        "ConsultationScreen": {"id": encode_id("Consultation", consultation.id)},
    }[name]


@pytest.mark.last  # after tests/demo, which seeds the same demo territory itself
async def test_every_operation_of_the_app_screens_guide_runs_on_the_demo(demo, gql):
    found = operations()
    assert set(found) == {
        "Home", "OfficialsToDo", "QuestionDetail", "EditQuestion", "MyActivity", "StaffLists", "PollScreen", "Vote",
        "ByReference", "RateLimitBudget", "ConsultationScreen",
    }
    # A citizen who asked questions (the edit then applies to one of theirs, while it is open)
    asker = (
        await Member.filter(territory_id=demo.id, role=Role.CITIZEN, questions_asked__status=QuestionStatus.OPEN,
                            account__deleted_at__isnull=True)
        .select_related("account").first()
    )
    assert asker is not None
    logged = await gql(LOG_IN, {"i": {"email": asker.account.email, "password": text.PASSWORD}})
    token = logged["data"]["logIn"]["token"]
    assert token, logged

    for name, (kind, document) in found.items():
        variables = await variables_for(name, demo, asker)
        result = await gql(document, variables, token=token)
        assert not result.get("errors"), (name, result)
        if kind == "query" and name != "MyActivity":
            anonymous = await gql(document, variables)
            assert not anonymous.get("errors"), (name, anonymous)
        assert result["data"], name
        if name == "ConsultationScreen":
            # The information phase shows the draft plan as a file; the survey phase its answered survey.
            information, survey_phase = result["data"]["node"]["phases"][:2]
            assert information["documents"][0]["currentVersion"]["contentType"] == "application/pdf"
            assert "/files/documents/" in information["documents"][0]["currentVersion"]["url"]
            [survey] = survey_phase["surveys"]
            assert survey["results"]["final"] and survey["results"]["totalSubmissions"] > 0
            assert survey["viewerCanSubmit"] == {"allowed": False, "reason": "SURVEY_CLOSED"}
        if name == "ByReference":
            found_back = result["data"]["territory"]["questionByReference"]
            assert found_back is not None and found_back["reference"] == variables["reference"], result
