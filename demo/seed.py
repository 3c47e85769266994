"""seed-demo: a lived-in territory modeled on Carcassonne Agglo, for front-end work and demos.

Every screen has something to show: officials with their mandates, questions answered on
time, late, still open (some overdue) and one closed by a moderator; ideas at every status
with their supports; projects with budgets and documents; open, scheduled and closed polls;
news, comments, reports, notifications, and the feed.

The data keeps the invariants the mutations keep (support_count is the number of Support
rows, total_votes the number of participations, feed ids follow time, hidden subjects have
hidden feed entries), so what the demo shows is what the API would have produced.

Speed: everything is built in memory from one seeded random generator, then written in one
transaction with bulk inserts. bulk_create does not return primary keys, so rows are inserted
in a known order (their time order, so ids grow with time as they would live) and their ids
are read back in id order, scoped to the new territory: other writers may take ids in
between, never reorder ours.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from access.passwords import hash_password
from access.sealing import keys_for
from demo import content as text
from demo.pdf import pdf_of
from models import clock
from models.accounts import Account, Member, Role
from models.comments import Comment
from models.consultations import (
    Consultation,
    ConsultationPhase,
    ConsultationStatus,
    Outcome,
    OutcomeItem,
    PhaseItem,
    PhaseKind,
)
from models.feed import FeedEntry
from models.ideas import Idea, IdeaStatus, Support
from models.moderation import Report, ReportStatus
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.polls import Poll, PollOption, PollParticipation, ResultsVisibility
from models.projects import Document, DocumentKind, Project
from models.questions import Question, QuestionStatus, Reply, due_date, reply_timing
from models.reach import Follow
from models.references import Referenced, give_references
from models.surveys import Survey, SurveyParticipation
from models.surveys import SurveyQuestion as SurveyQuestionRow
from models.territories import Territory
from resolvers.documents import check_content, do_keep_version
from resolvers.survey_answers import check_answers, check_questions
from resolvers.survey_box import do_fold_with, do_seal_response
from resolvers.surveys import do_set_questions
from resolvers.tally import fold_at_close
from resolvers.validation import Checks
from schema.relay import encode_id
from schema.surveys.inputs import SurveyAnswerInput, SurveyConditionInput, SurveyQuestionInput
from schema.surveys.kinds import SurveyQuestionKind
from storage.links import FileLinks

SEED = 2026
BATCH = 1000
SCALE_MAX = 100
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
LAUNCH_DAYS_AGO = 270

CITIZENS = 300
VERIFIED_SHARE = 0.3
# Questions per unit of scale, by what became of them.
ON_TIME, LATE, OPEN, OVERDUE, CLOSED = 55, 15, 18, 12, 1
# Ideas per unit of scale, by status, and how many supports each gathers (low, high).
IDEA_MIX = {
    IdeaStatus.SUBMITTED: (22, 0, 15),
    IdeaStatus.UNDER_REVIEW: (16, 5, 40),
    IdeaStatus.ACCEPTED: (12, 20, 80),
    IdeaStatus.IN_PROGRESS: (10, 25, 90),
    IdeaStatus.REALIZED: (8, 40, 120),
    IdeaStatus.REJECTED: (12, 0, 25),
}
COMMENTS_PER_SCALE = 220
COMMENT_KINDS = (("Question", 30), ("Idea", 35), ("Project", 15), ("NewsPost", 20))

M = TypeVar("M", bound=Model)


@dataclass
class Person:
    name: str
    email: str
    role: Role
    joined_at: dt.datetime
    commune: str
    verified: bool = False
    title: str | None = None
    account_id: int = 0
    member_id: int = 0

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


@dataclass
class Subject:
    """Something members comment on, with what a comment notification needs."""

    kind: str
    id: int
    created_at: dt.datetime
    author: Person
    title: str
    theme: str | None = None


def ascii_slug(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "-" for c in plain.lower()).strip("-")


def staff_email(name: str) -> str:
    return f"{ascii_slug(name).replace('-', '.')}@{text.EMAIL_DOMAIN}"


async def insert_in_order(model: type[M], rows: Sequence[M], **scope: Any) -> list[int]:
    """Bulk insert rows, then return their ids in the same order. `scope` selects exactly
    these rows (a filter on the territory this transaction created)."""
    if issubclass(model, Referenced):
        await give_references(rows)
    await model.bulk_create(rows, batch_size=BATCH)
    ids: list[int] = list(await model.filter(**scope).order_by("id").values_list("id", flat=True))  # type: ignore[arg-type]
    if len(ids) != len(rows):
        raise RuntimeError(f"read back {len(ids)} {model.__name__} ids for {len(rows)} rows")
    return ids


def question_gid(pk: int) -> strawberry.ID:
    return strawberry.ID(encode_id("SurveyQuestion", pk))


class DemoSeeder:
    def __init__(self, scale: int, now: dt.datetime, password_hash: str, files: FileLinks | None = None) -> None:
        self.rng = random.Random(SEED)
        self.files = files
        self.scale = scale
        self.now = now
        self.launch = now - LAUNCH_DAYS_AGO * DAY
        self.password_hash = password_hash
        self.territory_id = 0
        self.admin: Person
        self.moderators: list[Person] = []
        self.officials: dict[str, Person] = {}
        self.citizens: list[Person] = []
        self.joined: list[dt.datetime] = []
        self.projects: dict[str, Subject] = {}
        self.subjects: dict[str, list[Subject]] = {kind: [] for kind, _ in COMMENT_KINDS}
        self.feed: list[tuple[dt.datetime, str, int, bool]] = []
        self.notifications: list[Notification] = []
        self.hidden_news: Subject | None = None
        self.flagged: dict[str, tuple[int, dt.datetime, Person]] = {}
        self.counts: dict[str, int] = {}

    # --- helpers ---------------------------------------------------------------------

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        return start + (end - start) * self.rng.random()

    def ago(self, days: float) -> dt.datetime:
        """`days` before now, at a plausible hour of that day."""
        return self.now - days * DAY + dt.timedelta(minutes=self.rng.randrange(-300, 300))

    def citizen_at(self, moment: dt.datetime) -> Person:
        """A citizen who had joined by `moment`."""
        joined = bisect.bisect_right(self.joined, moment)
        return self.citizens[self.rng.randrange(max(joined, 1))]

    def notify(
        self, person: Person, kind: NotificationKind, subject: str, subject_id: int,
        message: str, at: dt.datetime,
    ) -> None:
        # Old news has mostly been read; recent news mostly not.
        read = self.rng.random() < (0.85 if at < self.now - 14 * DAY else 0.25)
        self.notifications.append(Notification(
            account_id=person.account_id, kind=kind, subject_type=subject, subject_id=subject_id,
            message=message, read=read, created_at=at,
        ))

    # --- the territory and its people --------------------------------------------------

    async def seed_territory(self) -> None:
        territory = await Territory.create(
            slug=text.SLUG, name=text.NAME, population=text.POPULATION, charter=text.CHARTER,
            reply_deadline_days=text.REPLY_DEADLINE_DAYS, created_at=self.launch - 30 * DAY,
        )
        self.territory_id = territory.id

    async def seed_people(self) -> None:
        rng = self.rng
        staff_joined = self.launch - 20 * DAY
        self.admin = Person(text.ADMIN_NAME, text.ADMIN_EMAIL, Role.ADMIN, staff_joined, "Carcassonne",
                            verified=True)
        self.moderators = [
            Person(name, staff_email(name), Role.MODERATOR,
                   staff_joined + HOUR, "Carcassonne", verified=True)
            for name in text.MODERATORS
        ]
        for theme, name, title in text.OFFICIALS:
            self.officials[theme] = Person(
                name, staff_email(name), Role.OFFICIAL,
                staff_joined + 2 * HOUR, rng.choice(text.COMMUNES[:6]), verified=True, title=title,
            )
        # Most people joined in the first weeks after the launch, then a steady trickle.
        last_join = self.now - 7 * DAY
        for i in range(CITIZENS * self.scale):
            first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
            joined = (self.launch + rng.random() * DAY if i < 20
                      else self.launch + (last_join - self.launch) * rng.random() ** 2)
            # Carcassonne holds about half the agglomeration's people.
            commune = "Carcassonne" if rng.random() < 0.45 else rng.choice(text.COMMUNES[1:])
            email = f"{ascii_slug(first)}.{ascii_slug(last)}.{i + 1}@{text.CITIZEN_EMAIL_DOMAIN}"
            verified = rng.random() < VERIFIED_SHARE
            name = f"{first} {last}"
            if i == 0:
                # The citizen the README lists: a verified resident of Carcassonne with a known
                # address (the draws above still happen, so the rest of the demo is unchanged).
                name, email, commune, verified = text.DEMO_CITIZEN_NAME, text.DEMO_CITIZEN_EMAIL, "Carcassonne", True
            self.citizens.append(Person(name, email, Role.CITIZEN, joined, commune, verified))
        self.citizens.sort(key=lambda p: p.joined_at)
        self.joined = [p.joined_at for p in self.citizens]

        people = [self.admin, *self.moderators, *self.officials.values(), *self.citizens]
        await Account.bulk_create(
            [Account(email=p.email, display_name=p.name, password_hash=self.password_hash,
                     created_at=p.joined_at - 5 * MINUTE) for p in people],
            batch_size=BATCH,
        )
        by_email: dict[str, int] = {}
        emails = [p.email for p in people]
        for start in range(0, len(emails), 500):
            chunk = emails[start:start + 500]
            by_email.update(await Account.filter(email__in=chunk).values_list("email", "id"))
        for p in people:
            p.account_id = by_email[p.email]
        member_ids = await insert_in_order(
            Member,
            [Member(account_id=p.account_id, territory_id=self.territory_id, role=p.role,
                    verified=p.verified, title=p.title, joined_at=p.joined_at) for p in people],
            territory_id=self.territory_id,
        )
        for p, pk in zip(people, member_ids, strict=True):
            p.member_id = pk
        self.counts["members"] = len(people)
        self.counts["citizens"] = len(self.citizens)
        self.counts["verified"] = sum(p.verified for p in self.citizens)

    # --- projects -----------------------------------------------------------------------

    async def seed_projects(self) -> None:
        documents: list[Document] = []
        for key, theme, title, description, budget, docs, days in text.PROJECTS:
            author = self.officials[theme]
            created = self.ago(days)
            row = await Project.create(
                territory_id=self.territory_id, created_by_id=author.member_id, title=title,
                description=description, budget_amount=budget,
                budget_currency="EUR" if budget is not None else None, created_at=created,
            )
            subject = Subject("Project", row.id, created, author, title, theme)
            self.projects[key] = subject
            self.subjects["Project"].append(subject)
            self.feed.append((created, "Project", row.id, False))
            for n, (doc_title, url, kind) in enumerate(docs):
                documents.append(Document(
                    project_id=row.id, title=doc_title, url=url, kind=DocumentKind(kind),
                    created_at=min(created + (n + 1) * self.rng.uniform(1, 6) * DAY, self.now - HOUR),
                ))
        await Document.bulk_create(documents, batch_size=BATCH)
        self.counts["projects"] = len(text.PROJECTS)
        self.counts["documents"] = len(documents)

    # --- questions and replies ----------------------------------------------------------

    def question_time(self, fate: str) -> tuple[dt.datetime, dt.datetime | None]:
        """When a question of this fate was asked, and when it was answered (if it was)."""
        rng, now, deadline = self.rng, self.now, text.REPLY_DEADLINE_DAYS * DAY
        if fate == "on_time":
            asked = self.between(self.launch + DAY, now - 2 * HOUR)
            longest = min(deadline - MINUTE, now - asked - HOUR)
            return asked, asked + rng.triangular(HOUR / longest, 1, min(3 * DAY / longest, 1)) * longest
        if fate == "late":
            asked = self.between(self.launch + DAY, now - 20 * DAY)
            longest = min(45 * DAY, now - asked - HOUR)
            return asked, self.between(asked + deadline + 2 * HOUR, asked + longest)
        if fate == "open":
            return self.between(now - deadline + 12 * HOUR, now - HOUR), None
        if fate == "overdue":
            return self.between(max(self.launch, now - 100 * DAY), now - deadline - DAY), None
        return self.between(self.launch + DAY, now - 5 * DAY), None

    async def seed_questions(self) -> None:
        rng = self.rng
        fates = (["on_time"] * ON_TIME + ["late"] * LATE + ["open"] * OPEN + ["overdue"] * OVERDUE
                 + ["closed"] * CLOSED) * self.scale
        planned = []
        for fate in fates:
            asked, answered = self.question_time(fate)
            theme, title, body = rng.choice(text.QUESTIONS)
            author = self.citizen_at(asked)
            addressed = self.officials[theme] if rng.random() < 0.75 else None
            planned.append((asked, answered, fate, theme, title.format(commune=author.commune),
                            body.format(commune=author.commune), author, addressed))
        planned.sort(key=lambda q: q[0])
        rows = [
            Question(
                territory_id=self.territory_id, author_id=author.member_id,
                official_id=addressed.member_id if addressed else None, title=title, body=body,
                status=(QuestionStatus.ANSWERED if answered else
                        QuestionStatus.CLOSED if fate == "closed" else QuestionStatus.OPEN),
                closed_reason=rng.choice(text.CLOSED_REASONS) if fate == "closed" else None,
                created_at=asked, due_at=due_date(asked, text.REPLY_DEADLINE_DAYS), answered_at=answered,
            )
            for asked, answered, fate, _theme, title, body, author, addressed in planned
        ]
        question_ids = await insert_in_order(Question, rows, territory_id=self.territory_id)

        replies = []
        for pk, (asked, answered, fate, theme, title, _, author, addressed) in zip(
            question_ids, planned, strict=True
        ):
            if fate != "closed":
                self.subjects["Question"].append(Subject("Question", pk, asked, author, title, theme))
            if answered is None:
                continue
            official = addressed or self.officials[theme]
            body = rng.choice(text.REPLIES[theme]).format(prenom=author.first_name, commune=author.commune)
            replies.append((answered, pk, official, asked, author, title, body))
        replies.sort(key=lambda r: r[0])
        reply_rows = [
            Reply(question_id=pk, official_id=official.member_id, territory_id=self.territory_id, body=body,
                  created_at=answered, on_time=timing[0], reply_seconds=timing[1])
            for answered, pk, official, asked, _author, _title, body in replies
            for timing in [reply_timing(asked, due_date(asked, text.REPLY_DEADLINE_DAYS), answered)]
        ]
        reply_ids = await insert_in_order(Reply, reply_rows, territory_id=self.territory_id)
        for reply_id, (answered, question_id, official, _, author, title, _) in zip(
            reply_ids, replies, strict=True
        ):
            self.feed.append((answered, "Reply", reply_id, False))
            self.notify(author, NotificationKind.QUESTION_ANSWERED, "Question", question_id,
                        f"{official.name} replied to your question: {title}", answered)
        self.counts["questions"] = len(rows)
        self.counts["replies"] = len(reply_rows)
        self.counts["overdue"] = OVERDUE * self.scale

    # --- ideas and supports -------------------------------------------------------------

    def idea_time(self, status: IdeaStatus) -> dt.datetime:
        earliest = self.launch + DAY
        latest = {
            IdeaStatus.REALIZED: 90, IdeaStatus.IN_PROGRESS: 45, IdeaStatus.ACCEPTED: 20,
            IdeaStatus.UNDER_REVIEW: 5, IdeaStatus.REJECTED: 5,
        }
        if status == IdeaStatus.SUBMITTED:
            return self.between(self.now - 60 * DAY, self.now - HOUR)
        return self.between(earliest, self.now - latest[status] * DAY)

    async def seed_ideas(self) -> None:
        rng = self.rng
        planned = []
        for status, (count, low, high) in IDEA_MIX.items():
            for _ in range(count * self.scale):
                created = self.idea_time(status)
                theme, title, body = rng.choice(text.IDEAS)
                author = self.citizen_at(created)
                realized = (self.between(created + 45 * DAY, self.now - 3 * DAY)
                            if status == IdeaStatus.REALIZED else None)
                note = None
                if status != IdeaStatus.SUBMITTED:
                    when = realized or created
                    month = text.MONTHS[when.month - 1]
                    note = rng.choice(text.STATUS_NOTES[status.value]).format(mois=month)
                project = self.projects.get(text.THEME_PROJECTS.get(theme, ""))
                if project is not None and (project.created_at > created or rng.random() < 0.5):
                    project = None
                planned.append((created, status, realized, note, theme, title.format(commune=author.commune),
                                body.format(commune=author.commune), author, project, rng.randint(low, high)))
        planned.sort(key=lambda i: i[0])

        supports: list[Support] = []
        support_counts = []
        for created, _status, _realized, _note, _theme, _title, _body, _author, _project, wanted in planned:
            # Supporters: people who had joined within a month of the idea.
            eligible = bisect.bisect_right(self.joined, min(created + 30 * DAY, self.now))
            chosen = rng.sample(range(eligible), min(wanted, eligible))
            for index in chosen:
                person = self.citizens[index]
                start = max(created, person.joined_at)
                supports.append(Support(member_id=person.member_id, created_at=min(
                    start + rng.random() * 10 * DAY, self.now - MINUTE)))
            support_counts.append(len(chosen))
        idea_rows = [
            Idea(territory_id=self.territory_id, author_id=author.member_id,
                 project_id=project.id if project else None, title=title, body=body, status=status,
                 status_note=note, support_count=support_count, created_at=created, realized_at=realized)
            for (created, status, realized, note, _theme, title, body, author, project, _), support_count
            in zip(planned, support_counts, strict=True)
        ]
        idea_ids = await insert_in_order(Idea, idea_rows, territory_id=self.territory_id)
        position = 0
        for pk, support_count in zip(idea_ids, support_counts, strict=True):
            for support in supports[position:position + support_count]:
                support.idea_id = pk
            position += support_count
        await Support.bulk_create(supports, batch_size=BATCH)

        for pk, (created, status, realized, note, theme, title, _, author, _, _) in zip(
            idea_ids, planned, strict=True
        ):
            self.subjects["Idea"].append(Subject("Idea", pk, created, author, title, theme))
            if status == IdeaStatus.SUBMITTED:
                continue
            changed = realized or min(created + rng.uniform(2, 40) * DAY, self.now - HOUR)
            message = f"Your idea “{title}” is now {status.value.replace('_', ' ').lower()}."
            self.notify(author, NotificationKind.IDEA_STATUS_CHANGED, "Idea", pk,
                        f"{message} {note}" if note else message, changed)
            if realized is not None:
                self.feed.append((realized, "Idea", pk, False))
        self.counts["ideas"] = len(idea_rows)
        self.counts["supports"] = len(supports)

    # --- the SCoT consultation -----------------------------------------------------------

    async def seed_consultation(self) -> None:
        """The SCoT revision in four phases: information (the draft plan as an uploaded PDF),
        a survey phase with its answered survey, a call for ideas, and the current restitution
        with its outcome answering two of the ideas."""
        official = self.officials["scot"]
        first_start = self.now - text.CONSULTATION_PHASES[0][3] * DAY
        project = self.projects.get("scot")
        consultation = await Consultation.create(
            territory_id=self.territory_id, project_id=project.id if project else None,
            created_by_id=official.member_id, title=text.CONSULTATION_TITLE, summary=text.CONSULTATION_SUMMARY,
            status=ConsultationStatus.PUBLISHED, created_at=first_start - 10 * DAY,
            updated_at=self.now - 14 * DAY, published_at=first_start - 3 * DAY,
        )
        self.feed.append((first_start - 3 * DAY, "Consultation", consultation.id, False))
        # Residents who follow it hear of each phase as it starts.
        early = self.citizens[:bisect.bisect_right(self.joined, first_start)] or self.citizens
        followers = self.rng.sample(early, min(25, len(early)))
        await Follow.bulk_create([
            Follow(account_id=p.account_id, subject_type="Consultation", subject_id=consultation.id,
                   created_at=max(p.joined_at, first_start - 3 * DAY)) for p in followers
        ])
        phases: list[ConsultationPhase] = []
        for kind, title, description, starts, ends in text.CONSULTATION_PHASES:
            phase_kind = PhaseKind(kind)
            starts_at, ends_at = self.now - starts * DAY, self.now - ends * DAY
            phases.append(await ConsultationPhase.create(
                consultation_id=consultation.id, kind=phase_kind, title=title, description=description,
                starts_at=starts_at, ends_at=ends_at, accepts_ideas=phase_kind is PhaseKind.DEBATE,
                accepts_questions=phase_kind in (PhaseKind.INFORMATION, PhaseKind.DEBATE),
                start_announced=starts_at <= self.now, created_at=first_start - 10 * DAY,
            ))
            if first_start < starts_at <= self.now:
                self.feed.append((starts_at, "Consultation", consultation.id, False))
                for person in followers:
                    self.notify(person, NotificationKind.CONSULTATION_PHASE_STARTED, "Consultation",
                                consultation.id, f"“{text.CONSULTATION_TITLE}”: the phase “{title}” has started.",
                                starts_at)
        information, survey_phase, debate, restitution = phases
        await self.seed_phase_document(information, official)
        await self.seed_phase_survey(survey_phase, official)
        idea_ids = []
        for n, (title, body) in enumerate(text.CONSULTATION_IDEAS):
            created = debate.starts_at + (n + 1) * 5 * DAY
            author = self.citizen_at(created)
            idea = await Idea.create(territory_id=self.territory_id, author_id=author.member_id, title=title,
                                     body=body, created_at=created)
            await PhaseItem.create(phase_id=debate.id, subject_type="Idea", subject_id=idea.id, created_at=created)
            self.subjects["Idea"].append(Subject("Idea", idea.id, created, author, title, "scot"))
            idea_ids.append((idea.id, author))
        published = restitution.starts_at + 2 * DAY
        outcome = await Outcome.create(phase_id=restitution.id, published_by_id=official.member_id,
                                       summary=text.CONSULTATION_OUTCOME, published_at=published, updated_at=published)
        for index in text.CONSULTATION_ANSWERED:
            pk, author = idea_ids[index]
            await OutcomeItem.create(outcome_id=outcome.id, subject_type="Idea", subject_id=pk)
            self.notify(author, NotificationKind.OUTCOME_PUBLISHED, "Idea", pk,
                        f"“{text.CONSULTATION_TITLE}” published an outcome that answers your contribution.",
                        published)
        self.counts["consultations"] = 1
        self.counts["ideas"] = self.counts.get("ideas", 0) + len(idea_ids)

    async def seed_phase_document(self, phase: ConsultationPhase, official: Person) -> None:
        """The draft plan, a PDF made here, kept through the upload's own checks and store
        (resolvers/documents.py); without a file store (tests of the seed alone), a link."""
        title, filename, kind = text.CONSULTATION_DOCUMENT
        document = await Document.create(phase_id=phase.id, title=title, kind=DocumentKind(kind), language="fr",
                                         url=None if self.files else f"https://{text.EMAIL_DOMAIN}/{filename}",
                                         created_at=phase.starts_at)
        if self.files is not None:
            data, file_kind = await check_content(pdf_of(title, text.CONSULTATION_DOCUMENT_LINES), None)
            await do_keep_version(self.files, document, 1, filename, data, file_kind, official.member_id)

    async def seed_phase_survey(self, phase: ConsultationPhase, official: Person) -> None:
        """The survey phase's survey (one question shown on a condition), answered by residents
        through the sealed path (checked answers, sealed and padded, who answered apart), then
        counted by the fold that closes it: the results are final, the answers unlinkable."""
        rng = random.Random(SEED + 14)  # its own draws: the rest of the demo stays as it was
        checks = Checks()
        rows = check_questions(checks, [
            SurveyQuestionInput(
                kind=SurveyQuestionKind[kind], prompt=prompt, options=list(options) or None,
                required=kind == "SINGLE_CHOICE", max_choices=2 if kind == "MULTIPLE_CHOICE" else None,
                min_label="Pas du tout" if kind == "SCALE" else None, max_label="Beaucoup" if kind == "SCALE" else None,
                show_if=SurveyConditionInput(question_position=when[0], option_position=when[1]) if when else None,
            )
            for kind, prompt, options, when in text.CONSULTATION_SURVEY_QUESTIONS
        ])
        checks.done()
        survey = await Survey.create(
            territory_id=self.territory_id, phase_id=phase.id, created_by_id=official.member_id,
            title=text.CONSULTATION_SURVEY_TITLE, description=text.CONSULTATION_SURVEY_DESCRIPTION,
            opens_at=phase.starts_at, closes_at=phase.ends_at, published_at=phase.starts_at - DAY,
            closed_at=phase.ends_at, tally={}, created_at=phase.starts_at - 5 * DAY,
        )
        await do_set_questions(survey.id, rows)
        questions = list(await SurveyQuestionRow.filter(survey_id=survey.id).order_by("position"))
        pool = self.citizens[:bisect.bisect_right(self.joined, phase.ends_at)] or self.citizens
        respondents = rng.sample(pool, min(len(pool), text.CONSULTATION_SURVEY_ANSWERS * self.scale))
        # Sealed under a key of this run only: the close's fold opens every one of them below.
        keys = keys_for(secrets.token_hex(32))
        for _ in respondents:
            checks = Checks()
            payload = check_answers(checks, questions, self.survey_answers(rng, questions), complete=True)
            checks.done()
            await do_seal_response(keys, survey.id, questions, payload)
        rng.shuffle(respondents)
        await SurveyParticipation.bulk_create(
            [SurveyParticipation(survey_id=survey.id, member_id=p.member_id) for p in respondents], batch_size=BATCH)
        await Survey.filter(id=survey.id).update(total_submissions=len(respondents))
        await do_fold_with(keys, lambda _event: None, fold_at_close(survey.id))
        self.counts["survey_answers"] = len(respondents)

    def survey_answers(self, rng: random.Random, questions: list[SurveyQuestionRow]) -> list[SurveyAnswerInput]:
        """One resident's answers: a priority, whether they drive (and if so what would change
        that), how much the plain's landscapes matter, and sometimes a word."""
        priority, drives, instead, landscapes, word = questions
        answers = [
            SurveyAnswerInput(question_id=question_gid(priority.id),
                              choices=[rng.choices(range(4), (3, 4, 5, 2))[0]]),
            SurveyAnswerInput(question_id=question_gid(drives.id), choices=[0 if rng.random() < 0.7 else 1]),
            SurveyAnswerInput(question_id=question_gid(landscapes.id), value=rng.choice((3, 4, 4, 5, 5))),
        ]
        if answers[1].choices == [0]:
            answers.append(SurveyAnswerInput(question_id=question_gid(instead.id),
                                             choices=sorted(rng.sample(range(4), rng.randint(1, 2)))))
        if rng.random() < 0.25:
            answers.append(SurveyAnswerInput(question_id=question_gid(word.id),
                                             text=rng.choice(text.CONSULTATION_SURVEY_WORDS)))
        return answers

    # --- polls --------------------------------------------------------------------------

    async def seed_polls(self) -> None:
        rng = self.rng
        participations: list[PollParticipation] = []
        ballots = 0
        for (_key, theme, project_key, question, options, multiple, verified_only, visibility,
             created_days, opens_days, closes_days, turnout) in text.POLLS:
            created = self.ago(-created_days)
            opens = max(created, self.now + opens_days * DAY)
            closes = self.now + closes_days * DAY
            closed = closes <= self.now
            author = self.officials[theme]
            project = self.projects.get(project_key) if project_key else None
            voters_pool = self.citizens[:bisect.bisect_right(self.joined, min(closes, self.now))]
            if verified_only:
                voters_pool = [p for p in voters_pool if p.verified]
            voters = rng.sample(voters_pool, round(turnout * len(voters_pool))) if opens <= self.now else []
            labels = [label for label, _ in options]
            weights = [weight for _, weight in options]
            tally = [0] * len(options)
            for _ in voters:
                if multiple:
                    picks = set(rng.choices(range(len(options)), weights, k=rng.randint(1, 3)))
                else:
                    picks = {rng.choices(range(len(options)), weights)[0]}
                for pick in picks:
                    tally[pick] += 1
            poll = await Poll.create(
                territory_id=self.territory_id, project_id=project.id if project else None,
                created_by_id=author.member_id, question=question, multiple_choice=multiple,
                verified_only=verified_only, opens_at=opens, closes_at=closes,
                closed_at=closes if closed else None, results_visibility=ResultsVisibility(visibility),
                total_votes=len(voters), counted_votes=len(voters), created_at=created, close_notified=closed,
            )
            await PollOption.bulk_create([
                PollOption(poll_id=poll.id, position=n, label=label, votes=votes)
                for n, (label, votes) in enumerate(zip(labels, tally, strict=True))
            ])
            # Who voted, in no particular order, and nothing of what they chose.
            participations.extend(PollParticipation(poll_id=poll.id, member_id=p.member_id) for p in voters)
            ballots += len(voters)
            self.feed.append((created, "Poll", poll.id, False))
            if closed:
                for p in voters:
                    self.notify(p, NotificationKind.POLL_CLOSED, "Poll", poll.id,
                                f"The poll you voted in is closed, see its results: {question}", closes)
        await PollParticipation.bulk_create(participations, batch_size=BATCH)
        self.counts["polls"] = len(text.POLLS)
        self.counts["ballots"] = ballots

    # --- news ---------------------------------------------------------------------------

    async def seed_news(self) -> None:
        planned = []
        for theme, project_key, title, body, days, hidden in text.NEWS:
            author = self.admin if theme == "admin" else self.officials[theme]
            project = self.projects.get(project_key) if project_key else None
            planned.append((self.ago(days), author, project, title, body, hidden, theme))
        planned.sort(key=lambda n: n[0])
        rows = [
            NewsPost(territory_id=self.territory_id, author_id=author.member_id,
                     project_id=project.id if project else None, title=title, body=body,
                     published_at=published, hidden=hidden)
            for published, author, project, title, body, hidden, _ in planned
        ]
        news_ids = await insert_in_order(NewsPost, rows, territory_id=self.territory_id)
        for pk, (published, author, _, title, _, hidden, theme) in zip(news_ids, planned, strict=True):
            subject = Subject("NewsPost", pk, published, author, title, theme)
            self.feed.append((published, "NewsPost", pk, hidden))
            if hidden:
                self.hidden_news = subject
            else:
                self.subjects["NewsPost"].append(subject)
        self.counts["news"] = len(rows)

    # --- comments and moderation ---------------------------------------------------------

    async def seed_comments(self) -> None:
        rng = self.rng
        kinds = [kind for kind, _ in COMMENT_KINDS]
        weights = [weight for _, weight in COMMENT_KINDS]
        planned: list[tuple[dt.datetime, Subject, Person, str, str]] = []
        while len(planned) < COMMENTS_PER_SCALE * self.scale:
            subject = rng.choice(self.subjects[rng.choices(kinds, weights)[0]])
            if subject.created_at > self.now - 3 * HOUR:
                continue
            latest = min(subject.created_at + 30 * DAY, self.now - MINUTE)
            at = self.between(subject.created_at + HOUR, latest)
            if subject.kind in ("Project", "NewsPost") and rng.random() < 0.1:
                # Officials answer under what they published.
                author = subject.author
                body = rng.choice(text.OFFICIAL_COMMENTS)
            else:
                author = self.citizen_at(at)
                body = rng.choice(text.COMMENTS[subject.kind]).format(commune=author.commune)
            planned.append((at, subject, author, body, ""))
        # The two comments the moderators have to deal with.
        questions = self.subjects["Question"]
        target = max(questions[: len(questions) // 2], key=lambda s: s.created_at)
        insult_at = target.created_at + 2 * HOUR
        planned.append((insult_at, target, self.citizen_at(insult_at), text.INSULT, "insult"))
        news = self.subjects["NewsPost"][-2]
        ad_at = min(news.created_at + DAY, self.now - 2 * HOUR)
        planned.append((ad_at, news, self.citizen_at(ad_at), text.ADVERTISING, "advertising"))
        planned.sort(key=lambda c: c[0])

        rows = [
            Comment(territory_id=self.territory_id, author_id=author.member_id, subject_type=subject.kind,
                    subject_id=subject.id, body=body, created_at=at, hidden=tag == "insult")
            for at, subject, author, body, tag in planned
        ]
        comment_ids = await insert_in_order(Comment, rows, territory_id=self.territory_id)
        for pk, (at, subject, author, _, tag) in zip(comment_ids, planned, strict=True):
            if tag:
                self.flagged[tag] = (pk, at, author)
            if subject.author.account_id != author.account_id:
                self.notify(subject.author, NotificationKind.NEW_COMMENT, subject.kind, subject.id,
                            f"{author.name} commented on “{subject.title}”.", at)
        self.counts["comments"] = len(rows)

    async def seed_reports(self) -> None:
        rng = self.rng
        first, second = self.moderators
        insult_id, insult_at, insulter = self.flagged["insult"]
        ad_id, ad_at, _ = self.flagged["advertising"]
        hidden_news = self.hidden_news
        assert hidden_news is not None
        reported_idea = self.subjects["Idea"][-1]
        reported_question = self.subjects["Question"][len(self.subjects["Question"]) // 3]
        insult_decided = insult_at + 5 * HOUR
        news_decided = hidden_news.created_at + 20 * HOUR
        insult_reason = "Insultes envers les élus : contraire à l'article 2 de la charte."
        news_reason = ("Propagande électorale : interdite par l'article 2 de la charte, "
                       "y compris pour les élus.")
        reports = [
            Report(subject_type="Comment", subject_id=insult_id,
                   reporter_id=self.citizen_at(insult_at).member_id, reason="Propos insultants.",
                   status=ReportStatus.HIDDEN, decision_reason=insult_reason, decided_by_id=first.member_id,
                   decided_at=insult_decided, created_at=insult_at + HOUR),
            Report(subject_type="NewsPost", subject_id=hidden_news.id,
                   reporter_id=self.citizen_at(hidden_news.created_at).member_id,
                   reason="Message de campagne électorale publié par un élu pendant la période de réserve.",
                   status=ReportStatus.HIDDEN, decision_reason=news_reason, decided_by_id=second.member_id,
                   decided_at=news_decided, created_at=hidden_news.created_at + 3 * HOUR),
            Report(subject_type="Question", subject_id=reported_question.id,
                   reporter_id=self.citizen_at(reported_question.created_at + DAY).member_id,
                   reason="Question polémique, hors sujet.", status=ReportStatus.DISMISSED,
                   decision_reason="La question porte sur une compétence de l'Agglo et respecte la charte.",
                   decided_by_id=first.member_id, decided_at=reported_question.created_at + 2 * DAY,
                   created_at=reported_question.created_at + DAY),
            Report(subject_type="Comment", subject_id=ad_id, reporter_id=self.citizen_at(ad_at).member_id,
                   reason="Publicité commerciale.", created_at=min(ad_at + 3 * HOUR, self.now - HOUR)),
            Report(subject_type="Idea", subject_id=reported_idea.id,
                   reporter_id=self.citizen_at(self.now).member_id,
                   reason="Doublon : la même idée a déjà été proposée.",
                   created_at=max(reported_idea.created_at, self.now - DAY) + rng.random() * 30 * MINUTE),
        ]
        for report in reports:
            report.territory_id = self.territory_id
        await Report.bulk_create(reports)
        self.notify(insulter, NotificationKind.CONTENT_HIDDEN, "Comment", insult_id,
                    f"A moderator hid your comment. {insult_reason}", insult_decided)
        self.notify(hidden_news.author, NotificationKind.CONTENT_HIDDEN, "NewsPost", hidden_news.id,
                    f"A moderator hid your news post “{hidden_news.title}”. {news_reason}", news_decided)
        self.counts["reports"] = len(reports)

    # --- the last writes ------------------------------------------------------------------

    async def seed_erasures(self) -> None:
        """Two people used their right to erasure: what they wrote stays, their name goes."""
        erased_at = self.now - 2 * DAY
        gone = [self.citizens[3], self.citizens[len(self.citizens) // 2]]
        for person in gone:
            await Account.filter(id=person.account_id).update(
                email=None, display_name="Former member", password_hash=None, deleted_at=erased_at)
        ids = {p.account_id for p in gone}
        self.notifications = [n for n in self.notifications
                              if not (n.account_id in ids and n.created_at > erased_at)]

    async def seed_notifications_and_feed(self) -> None:
        self.notifications.sort(key=lambda n: n.created_at)
        await Notification.bulk_create(self.notifications, batch_size=BATCH)
        # Feed ids are the feed's cursors: insert in time order so they grow with time.
        self.feed.sort(key=lambda entry: entry[0])
        await FeedEntry.bulk_create(
            [FeedEntry(territory_id=self.territory_id, subject_type=kind, subject_id=pk, created_at=at,
                       hidden=hidden) for at, kind, pk, hidden in self.feed],
            batch_size=BATCH,
        )
        self.counts["notifications"] = len(self.notifications)
        self.counts["feed"] = len(self.feed)

    async def run(self) -> dict[str, int]:
        await self.seed_territory()
        await self.seed_people()
        await self.seed_projects()
        await self.seed_questions()
        await self.seed_ideas()
        await self.seed_consultation()
        await self.seed_polls()
        await self.seed_news()
        await self.seed_comments()
        await self.seed_reports()
        await self.seed_erasures()
        await self.seed_notifications_and_feed()
        return self.counts


class SeedRefused(Exception):
    """The demo cannot be seeded here (bad scale, already seeded, schema missing)."""


async def do_seed_demo(scale: int = 1, files: FileLinks | None = None) -> str:
    """Create the demo territory (Tortoise must be initialised); returns a one-line summary.
    `files` is where the demo's uploaded files go (the app's store); without it, the
    consultation's draft plan is a link.

    Refuses (SeedRefused) when the territory already exists, so re-running never duplicates.
    """
    if not 1 <= scale <= SCALE_MAX:
        raise SeedRefused(f"--scale must be 1 to {SCALE_MAX} (got {scale})")
    try:
        exists = await Territory.filter(slug=text.SLUG).exists()
    except OperationalError as exc:
        raise SeedRefused(
            f"the database is not ready (run `python server.py migrate` first): {exc}"
        ) from exc
    if exists:
        raise SeedRefused(
            f"the demo territory {text.SLUG!r} already exists: seed-demo runs once per database"
        )
    started = time.perf_counter()
    # One hash for every demo account: argon2 is slow on purpose, and the demo needs no secret.
    password_hash = await hash_password(text.PASSWORD)
    seeder = DemoSeeder(scale, clock.now(), password_hash, files)
    try:
        async with in_transaction():
            counts = await seeder.run()
    except IntegrityError as exc:
        # A concurrent seed-demo won the slug, or the demo emails are taken.
        raise SeedRefused(f"cannot seed the demo territory {text.SLUG!r}: {exc}") from exc
    elapsed = time.perf_counter() - started
    return (
        f"demo territory {text.SLUG} ({text.NAME}, scale {scale}) seeded in {elapsed:.1f}s: "
        f"{counts['members']} members ({counts['citizens']} citizens, {counts['verified']} verified, "
        f"{len(text.OFFICIALS)} officials, {len(text.MODERATORS)} moderators, 1 admin), "
        f"{counts['questions']} questions ({counts['replies']} replies, {counts['overdue']} overdue), "
        f"{counts['ideas']} ideas ({counts['supports']} supports), {counts['projects']} projects "
        f"({counts['documents']} documents), {counts['polls']} polls ({counts['ballots']} ballots), "
        f"{counts['consultations']} consultation, {counts['news']} news posts, {counts['comments']} comments, {counts['reports']} reports, "
        f"{counts['notifications']} notifications, {counts['feed']} feed entries; "
        f"log in as {text.ADMIN_EMAIL} (admin), {staff_email(text.MODERATORS[0])} (moderator), "
        f"{staff_email(text.OFFICIALS[0][1])} (official) or {text.DEMO_CITIZEN_EMAIL} (citizen) "
        f"with password {text.PASSWORD} (every demo account has this password)"
    )
