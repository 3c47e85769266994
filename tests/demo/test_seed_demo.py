"""seed-demo: a lived-in Carcassonne Agglo whose data keeps every invariant the mutations keep.

The demo is seeded once for this module (its slug is fixed, and the session shares one
database); every read is scoped to the demo territory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tortoise.functions import Count

from access.passwords import verify_password
from app.files import file_links, file_store
from app.settings import Settings
from demo import content as text
from demo.seed import SeedRefused, do_seed_demo
from models.accounts import Account, Member, Role
from models.comments import Comment
from models.consultations import Consultation, PhaseKind
from models.feed import FeedEntry
from models.ideas import Idea, IdeaStatus, Support
from models.moderation import Report, ReportStatus
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.polls import Poll, PollOption, PollParticipation, ResultsVisibility
from models.projects import Document, DocumentKind, DocumentVersion, Project
from models.questions import Question, QuestionStatus, Reply
from models.reach import REMINDER_KINDS
from models.surveys import SealedSurveyResponse, Survey, SurveyParticipation, SurveyResponse
from models.territories import Territory
from schema.relay import encode_id


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
async def demo(settings: Settings) -> dict[str, Any]:
    summary = await do_seed_demo(scale=1, files=file_links(settings, file_store(settings)))
    territory = await Territory.get(slug=text.SLUG)
    return {"summary": summary, "territory": territory, "now": dt.datetime.now(dt.UTC)}


async def test_the_demo_is_a_territory_like_carcassonne_agglo_with_its_charter(demo):
    territory = demo["territory"]
    assert territory.name == "Carcassonne Agglo"
    assert territory.population == 110_000
    assert territory.reply_deadline_days == 15
    assert territory.charter.startswith("Charte de la participation citoyenne")
    # The summary is one line that tells the front-end developer how to log in.
    assert "\n" not in demo["summary"]
    assert "admin@carcassonne-agglo.example" in demo["summary"]
    assert "demo-password-2026" in demo["summary"]


async def test_the_admin_moderators_officials_and_citizens_are_there(demo):
    territory = demo["territory"]
    members = await Member.filter(territory_id=territory.id).select_related("account")
    roles = Counter(m.role for m in members)
    assert roles[Role.ADMIN] == 1
    assert roles[Role.MODERATOR] == 2
    assert 9 <= roles[Role.OFFICIAL] <= 12
    assert roles[Role.CITIZEN] == 300
    officials = [m for m in members if m.role == Role.OFFICIAL]
    assert all(m.title for m in officials)
    assert "Président de Carcassonne Agglo" in {m.title for m in officials}
    assert any("mobilités" in m.title for m in officials)
    citizens = [m for m in members if m.role == Role.CITIZEN]
    verified = sum(m.verified for m in citizens)
    assert 0 < verified < len(citizens)

    admin = next(m for m in members if m.role == Role.ADMIN)
    assert admin.account.email == "admin@carcassonne-agglo.example"
    assert await verify_password(admin.account, "demo-password-2026")
    # Two people used their right to erasure: their name is gone, what they wrote stays.
    erased = [m.account for m in members if m.account.deleted_at is not None]
    assert len(erased) == 2
    assert all(a.email is None and a.display_name == "Former member" for a in erased)


async def test_the_admin_logs_in_with_the_printed_password(demo, gql):
    result = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }",
        {"i": {"email": "admin@carcassonne-agglo.example", "password": "demo-password-2026"}},
    )
    assert result["data"]["logIn"]["userErrors"] == []
    assert result["data"]["logIn"]["token"]


async def test_questions_are_answered_on_time_late_still_open_overdue_and_one_closed(demo):
    territory, now = demo["territory"], demo["now"]
    questions = await Question.filter(territory_id=territory.id)
    replies = {r.question_id: r for r in await Reply.filter(territory_id=territory.id)}
    deadline = dt.timedelta(days=15)
    for q in questions:
        assert utc(q.due_at) == utc(q.created_at) + deadline
        assert utc(q.created_at) <= now
        if q.status == QuestionStatus.ANSWERED:
            reply = replies[q.id]
            answered = utc(reply.created_at)
            assert utc(q.answered_at) == answered
            assert reply.on_time == (answered <= utc(q.due_at))
            assert reply.reply_seconds == int((answered - utc(q.created_at)).total_seconds())
            assert utc(q.created_at) < answered <= now
        else:
            assert q.id not in replies
            assert q.answered_at is None
    answered = [replies[q.id] for q in questions if q.status == QuestionStatus.ANSWERED]
    assert sum(r.on_time for r in answered) >= 30
    assert sum(not r.on_time for r in answered) >= 5
    open_ = [q for q in questions if q.status == QuestionStatus.OPEN]
    assert any(utc(q.due_at) < now for q in open_), "some open questions are overdue"
    assert any(utc(q.due_at) > now for q in open_), "some open questions are still within the deadline"
    closed = [q for q in questions if q.status == QuestionStatus.CLOSED]
    assert len(closed) == 1 and closed[0].closed_reason
    # Spread over the past months.
    assert min(utc(q.created_at) for q in questions) < now - dt.timedelta(days=150)


async def test_ideas_reach_every_status_and_count_their_supports(demo):
    territory = demo["territory"]
    ideas = await Idea.filter(territory_id=territory.id)
    assert {i.status for i in ideas} == set(IdeaStatus)
    supports = dict(
        await Support.filter(idea__territory_id=territory.id)
        .annotate(n=Count("id")).group_by("idea_id").values_list("idea_id", "n")
    )
    assert sum(supports.values()) > 0
    for idea in ideas:
        assert idea.support_count == supports.get(idea.id, 0)
        if idea.status == IdeaStatus.REALIZED:
            assert idea.realized_at is not None and idea.status_note
            assert utc(idea.realized_at) > utc(idea.created_at)
        else:
            assert idea.realized_at is None
        if idea.status != IdeaStatus.SUBMITTED:
            assert idea.status_note


async def test_projects_have_budgets_in_euros_and_documents_of_every_kind(demo):
    territory = demo["territory"]
    projects = await Project.filter(territory_id=territory.id)
    scot = next(p for p in projects if "Révision du SCoT" in p.title)
    assert "Schéma de cohérence territoriale" in scot.title
    budgeted = [p for p in projects if p.budget_amount is not None]
    assert budgeted and all(p.budget_currency == "EUR" for p in budgeted)
    assert scot.budget_amount == scot.budget_amount.quantize(scot.budget_amount.__class__("0.01"))
    documents = await Document.filter(project__territory_id=territory.id)
    assert {d.kind for d in documents} == set(DocumentKind)
    assert all(d.url.startswith(("https://", "http://")) for d in documents)
    assert await Document.filter(project_id=scot.id).count() >= 3


async def test_polls_count_ballots_the_secret_way(demo):
    territory, now = demo["territory"], demo["now"]
    polls = await Poll.filter(territory_id=territory.id)
    states = set()
    for poll in polls:
        participations = await PollParticipation.filter(poll_id=poll.id).count()
        votes = await PollOption.filter(poll_id=poll.id).values_list("votes", flat=True)
        assert poll.total_votes == participations
        if poll.multiple_choice:
            assert participations <= sum(votes) <= participations * len(votes)
        else:
            assert sum(votes) == poll.total_votes
        if utc(poll.opens_at) > now:
            states.add("scheduled")
            assert poll.total_votes == 0
        elif utc(poll.closes_at) <= now:
            states.add("closed")
            assert poll.closed_at is not None and poll.close_notified
        else:
            states.add("open")
            assert poll.closed_at is None
        if poll.verified_only:
            voters = await PollParticipation.filter(poll_id=poll.id).values_list(
                "member__verified", flat=True
            )
            assert all(voters)
    assert states == {"scheduled", "open", "closed"}
    assert {p.results_visibility for p in polls} == set(ResultsVisibility)
    assert sum(p.verified_only for p in polls) == 1
    assert any(p.multiple_choice and p.total_votes for p in polls)
    assert any(p.total_votes for p in polls if utc(p.closes_at) <= now)


async def test_the_feed_holds_every_published_item_in_time_order(demo):
    territory = demo["territory"]
    entries = await FeedEntry.filter(territory_id=territory.id).order_by("id")
    times = [utc(e.created_at) for e in entries]
    assert times == sorted(times), "feed ids grow with time"
    published = {
        "NewsPost": dict(await NewsPost.filter(territory_id=territory.id).values_list("id", "hidden")),
        "Poll": dict(await Poll.filter(territory_id=territory.id).values_list("id", "hidden")),
        "Reply": dict(await Reply.filter(territory_id=territory.id).values_list("id", "hidden")),
        "Project": dict(await Project.filter(territory_id=territory.id).values_list("id", "hidden")),
        "Idea": dict(
            await Idea.filter(territory_id=territory.id, status=IdeaStatus.REALIZED)
            .values_list("id", "hidden")
        ),
        # A consultation enters the feed when published and as each phase starts.
        "Consultation": {pk: False for pk in await Consultation.filter(territory_id=territory.id).values_list(
            "id", flat=True)},
    }
    in_feed = {(e.subject_type, e.subject_id): e.hidden for e in entries}
    expected = {(kind, pk): hidden for kind, rows in published.items() for pk, hidden in rows.items()}
    assert in_feed == expected
    assert all(published[kind] for kind in published)
    assert any(in_feed.values()), "the news post a moderator hid left the feed"


async def test_the_scot_revision_runs_as_a_consultation_in_four_phases(demo, gql):
    query = """query($s: String!) { territory(slug: $s) { consultations(first: 5) { edges { node {
      title status project { title } currentPhase { kind }
      phases { kind state documents { title url } ideas { title outcomes { summary } }
               outcome { summary ideas { title } } } } } } } }"""
    result = await gql(query, {"s": text.SLUG})
    assert "errors" not in result, result
    [edge] = result["data"]["territory"]["consultations"]["edges"]
    consultation = edge["node"]
    assert consultation["title"] == "Révision du SCoT du Carcassonnais"
    assert consultation["status"] == "PUBLISHED"
    assert consultation["project"]["title"].startswith("Révision du SCoT")
    phases = consultation["phases"]
    assert [(p["kind"], p["state"]) for p in phases] == [
        ("INFORMATION", "PAST"), ("SURVEY", "PAST"), ("DEBATE", "PAST"), ("RESTITUTION", "CURRENT"),
    ]
    assert consultation["currentPhase"] == {"kind": "RESTITUTION"}
    assert phases[0]["documents"][0]["url"].endswith(".pdf")
    assert len(phases[2]["ideas"]) == len(text.CONSULTATION_IDEAS)
    outcome = phases[3]["outcome"]
    assert outcome["summary"] == text.CONSULTATION_OUTCOME
    answered = {text.CONSULTATION_IDEAS[i][0] for i in text.CONSULTATION_ANSWERED}
    assert {i["title"] for i in outcome["ideas"]} == answered
    assert {i["title"] for i in phases[2]["ideas"] if i["outcomes"]} == answered


async def test_the_information_phase_holds_the_draft_plan_as_an_uploaded_pdf(demo, gql, http):
    query = """query($s: String!) { territory(slug: $s) { consultations(first: 1) { edges { node {
      phases { documents { title url draft currentVersion { url contentType size filename } versions { number } } }
    } } } } }"""
    result = await gql(query, {"s": text.SLUG})
    assert "errors" not in result, result
    [document] = result["data"]["territory"]["consultations"]["edges"][0]["node"]["phases"][0]["documents"]
    assert document["title"] == text.CONSULTATION_DOCUMENT[0] and document["draft"] is False
    version = document["currentVersion"]
    assert version["contentType"] == "application/pdf" and version["filename"] == "projet-scot-arrete.pdf"
    assert document["versions"] == [{"number": 1}] and document["url"] == version["url"]
    # Public, so served to anyone at its stable URL: a real PDF, as stored.
    served = await http.get("/files/" + version["url"].split("/files/", 1)[1])
    assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
    assert served.content.startswith(b"%PDF-1.4") and served.content.rstrip().endswith(b"%%EOF")
    assert len(served.content) == version["size"]
    stored = await DocumentVersion.get(document__phase__consultation__territory_id=demo["territory"].id)
    assert hashlib.sha256(served.content).hexdigest() == stored.sha256


async def test_the_survey_phase_holds_a_survey_whose_sealed_answers_were_counted(demo, gql):
    territory = demo["territory"]
    survey = await Survey.get(territory_id=territory.id, phase__kind=PhaseKind.SURVEY)
    count = text.CONSULTATION_SURVEY_ANSWERS
    # Who answered, apart from what: every submission counted by the close's fold, none left sealed.
    assert await SurveyParticipation.filter(survey_id=survey.id).count() == count
    assert await SealedSurveyResponse.filter(survey_id=survey.id).count() == 0
    assert await SurveyResponse.filter(survey_id=survey.id).count() == count
    assert (survey.total_submissions, survey.counted_submissions) == (count, count)
    query = """query($id: ID!) { survey(id: $id) { status questions { showIf { questionPosition optionPosition } }
      results { final totalSubmissions questions { answered options { count } } } } }"""
    result = await gql(query, {"id": encode_id("Survey", survey.id)})
    assert "errors" not in result, result
    data = result["data"]["survey"]
    assert data["status"] == "CLOSED" and data["results"]["final"] and data["results"]["totalSubmissions"] == count
    # The third question shows only to those who drive every day, and only they answered it.
    assert data["questions"][2]["showIf"] == {"questionPosition": 1, "optionPosition": 0}
    drives = data["results"]["questions"][1]["options"][0]["count"]
    assert 0 < data["results"]["questions"][2]["answered"] == drives < count
    assert data["results"]["questions"][0]["answered"] == count


async def test_moderators_have_a_pending_report_and_hid_content(demo):
    territory = demo["territory"]
    reports = await Report.filter(territory_id=territory.id)
    assert any(r.status == ReportStatus.PENDING for r in reports)
    hidden = [r for r in reports if r.status == ReportStatus.HIDDEN]
    assert hidden
    models = {"Comment": Comment, "NewsPost": NewsPost, "Idea": Idea, "Question": Question}
    moderators = set(
        await Member.filter(territory_id=territory.id, role=Role.MODERATOR).values_list("id", flat=True)
    )
    for report in hidden:
        subject = await models[report.subject_type].get(id=report.subject_id)
        assert subject.hidden is True
        assert report.decided_by_id in moderators and report.decided_at and report.decision_reason
    for report in reports:
        if report.status == ReportStatus.PENDING:
            assert report.decided_by_id is None and report.decided_at is None


async def test_comments_and_notifications_fill_every_screen(demo):
    territory = demo["territory"]
    kinds = set(await Comment.filter(territory_id=territory.id).values_list("subject_type", flat=True))
    assert kinds == {"Question", "Idea", "Project", "NewsPost"}
    accounts = await Member.filter(territory_id=territory.id).values_list("account_id", flat=True)
    notifications = await Notification.filter(account_id__in=accounts)
    # (reminders are mailed, never stored as notifications)
    assert {n.kind for n in notifications} == set(NotificationKind) - REMINDER_KINDS
    assert any(n.read for n in notifications) and any(not n.read for n in notifications)
    assert len({n.account_id for n in notifications}) > 50


async def test_seeding_again_is_refused_and_changes_nothing(demo):
    territory = demo["territory"]
    members = await Member.filter(territory_id=territory.id).count()
    accounts = await Account.all().count()
    with pytest.raises(SeedRefused, match="already exists"):
        await do_seed_demo(scale=1)
    assert await Territory.filter(slug=text.SLUG).count() == 1
    assert await Member.filter(territory_id=territory.id).count() == members
    assert await Account.all().count() == accounts


async def test_a_scale_out_of_range_is_refused(demo):
    with pytest.raises(SeedRefused, match="--scale"):
        await do_seed_demo(scale=0)


async def test_the_screens_render_through_the_api(demo, gql):
    # Given the admin logged in with the printed password
    login = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
        {"i": {"email": "admin@carcassonne-agglo.example", "password": "demo-password-2026"}},
    )
    token = login["data"]["logIn"]["token"]
    # When they open the territory's main screens
    result = await gql(
        """query($slug: String!) { territory(slug: $slug) {
             stats { questionsAsked questionsAnswered questionsOverdue ideasRealized pollsHeld votesCast
                     onTimeReplyRate medianReplySeconds }
             officials(first: 20) {
               totalCount edges { node { displayName title repliesCount overdueCount } } }
             feed(first: 100) { totalCount edges { node { __typename } } }
             ideas(first: 5) { totalCount edges { node { title status supportCount } } }
             polls(first: 10) { edges { node { status results { totalVotes options { votes } } } } }
             projects(first: 10) {
               edges { node { title budget { amount currency } documents { kind url } } } }
             reports(first: 10) { totalCount edges { node { status subject { __typename } } } }
           } }""",
        {"slug": text.SLUG},
        token=token,
    )
    # Then everything resolves and the figures match the rows
    assert "errors" not in result, result.get("errors")
    territory = result["data"]["territory"]
    stats = territory["stats"]
    assert stats["questionsAsked"] == 101 and stats["questionsAnswered"] == 70
    assert stats["questionsOverdue"] == 12 and stats["ideasRealized"] == 8
    assert 0 < stats["onTimeReplyRate"] < 1
    assert territory["officials"]["totalCount"] == len(text.OFFICIALS)
    kinds = {e["node"]["__typename"] for e in territory["feed"]["edges"]}
    assert kinds == {"NewsPost", "Poll", "Reply", "Project", "Idea", "Consultation"}
    assert territory["reports"]["totalCount"] == 5
    assert {e["node"]["status"] for e in territory["polls"]["edges"]} == {"SCHEDULED", "OPEN", "CLOSED"}

    # And the feed, for anyone, is every entry but the hidden news post's
    visible = await FeedEntry.filter(territory_id=demo["territory"].id, hidden=False).count()
    assert visible == await FeedEntry.filter(territory_id=demo["territory"].id).count() - 1
    anonymous = await gql(
        "query($slug: String!) { territory(slug: $slug) { feed(first: 1) { totalCount } } }",
        {"slug": text.SLUG},
    )
    assert anonymous["data"]["territory"]["feed"]["totalCount"] == visible
    assert territory["feed"]["totalCount"] == visible


README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
DEMO_ACCOUNTS = [
    ("admin@carcassonne-agglo.example", "ADMIN"),
    ("camille.roux@carcassonne-agglo.example", "MODERATOR"),
    ("henri.vidal@carcassonne-agglo.example", "OFFICIAL"),
    ("lea.garcia@habitants.example", "CITIZEN"),
]


@pytest.mark.parametrize(("email", "role"), DEMO_ACCOUNTS)
async def test_every_demo_account_the_readme_lists_logs_in_with_its_role(demo, gql, email, role):
    # The README's table of demo accounts, one of each role, all with the demo password
    assert f"`{email}`" in README
    logged = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token userErrors { code } } }",
        {"i": {"email": email, "password": text.PASSWORD}},
    )
    assert logged["data"]["logIn"]["userErrors"] == []
    viewer = await gql("{ viewer { email memberships { role territory { slug } } } }",
                       token=logged["data"]["logIn"]["token"])
    assert viewer["data"]["viewer"]["email"] == email
    assert viewer["data"]["viewer"]["memberships"] == [{"role": role, "territory": {"slug": text.SLUG}}]
    assert email in demo["summary"]
