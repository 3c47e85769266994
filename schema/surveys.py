"""Surveys: the survey, its questions, its results, a member's draft, and the inputs.

Answers are as secret as ballots (docs/adr/0021): the API tells a viewer whether they
submitted and shows them their own draft, never anyone's submission; results are sums moved
by batches; text answers reach the survey's staff only, as an unordered set.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.sealing import BallotUnreadable, keys_for, open_padded
from models import surveys as ms
from models.accounts import Member, Role
from models.clock import as_utc, now
from reads.loaders import Loaders
from schema.errors import Refusal, UserError, UserErrorCode
from schema.permissions import Permission, check_member, permission
from schema.placement import AboutProject, InTerritory
from schema.polls import ResultsVisibility
from schema.relay import Node, encode_id, register_node

# Who reads a survey's drafts before publication, its text answers and its export.
SURVEY_STAFF = tuple(ms.SURVEY_STAFF)
# Who creates, edits, opens and closes surveys.
SURVEY_MANAGERS = (Role.OFFICIAL, Role.ADMIN)


@strawberry.enum(description="Where a survey stands: drafted by staff, then in time like a poll.")
class SurveyStatus(Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Being written: staff only, questions editable.")
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Published, not open yet: opensAt is ahead.")
    OPEN = strawberry.enum_value("OPEN", description="Members may answer.")
    CLOSED = strawberry.enum_value("CLOSED", description="Closed by staff, or past closesAt.")


@strawberry.enum(description="The kind of a survey question, which says what an answer holds.")
class SurveyQuestionKind(Enum):
    SINGLE_CHOICE = strawberry.enum_value("SINGLE_CHOICE", description="Exactly one option (choices).")
    MULTIPLE_CHOICE = strawberry.enum_value(
        "MULTIPLE_CHOICE", description="minChoices to maxChoices distinct options (choices)."
    )
    RANKING = strawberry.enum_value(
        "RANKING", description="Every option, once each, best first (choices, in order)."
    )
    SCALE = strawberry.enum_value("SCALE", description="A whole number from scaleMin to scaleMax (value).")
    SHORT_TEXT = strawberry.enum_value("SHORT_TEXT", description="Up to 300 characters (text).")
    LONG_TEXT = strawberry.enum_value("LONG_TEXT", description="Up to 3,000 characters (text).")


@strawberry.enum(description="The format of a survey export.")
class SurveyExportFormat(Enum):
    CSV = strawberry.enum_value("CSV", description="Comma-separated values, a header row of the questions.")
    JSON = strawberry.enum_value("JSON", description="A JSON document: the questions, then the responses.")


def survey_status(row: ms.Survey, at: dt.datetime | None = None) -> SurveyStatus:
    """DRAFT until published; then CLOSED once closed_at is set or closes_at reached,
    SCHEDULED before opens_at, OPEN in between (the clock moves it, nobody has to)."""
    if row.published_at is None:
        return SurveyStatus.DRAFT
    at = at or now()
    if row.closed_at is not None or at >= as_utc(row.closes_at):
        return SurveyStatus.CLOSED
    if at < as_utc(row.opens_at):
        return SurveyStatus.SCHEDULED
    return SurveyStatus.OPEN


async def may_see(ctx: Context, row: ms.Survey) -> bool:
    """Published surveys for everyone; drafts for the territory's officials, moderators and admins."""
    if row.published_at is not None:
        return True
    member = await ctx.membership(row.territory_id)
    return member is not None and member.role in SURVEY_STAFF


def already_submitted() -> Refusal:
    return Refusal.of(UserErrorCode.ALREADY_SUBMITTED, "You already submitted this survey.", "surveyId")


async def check_may_answer(ctx: Context, survey: ms.Survey, at: dt.datetime | None = None) -> Member:
    """saveSurveyDraft's and submitSurvey's checks of the viewer and the survey's window, for a
    survey the viewer may see: a member (NOT_A_MEMBER, EMAIL_NOT_VERIFIED), verified when the
    survey says so (NOT_VERIFIED), the survey open (SURVEY_NOT_OPEN, SURVEY_CLOSED). One
    submission per member is the database's (the unique participation), not checked here."""
    member = await check_member(ctx, survey.territory_id, "answer this survey", "surveyId")
    if survey.verified_only and not member.verified:
        raise Refusal.of(UserErrorCode.NOT_VERIFIED, "Only verified residents may answer this survey.", "surveyId")
    status = survey_status(survey, at)
    if status == SurveyStatus.CLOSED:
        raise Refusal.of(UserErrorCode.SURVEY_CLOSED, "This survey has closed.", "surveyId")
    if status != SurveyStatus.OPEN:
        raise Refusal.of(UserErrorCode.SURVEY_NOT_OPEN, "This survey is not open yet.", "surveyId")
    return member


async def check_may_submit_again(ctx: Context, survey: ms.Survey) -> None:
    """What submitSurvey would answer the viewer now (before checking answers): its checks,
    then ALREADY_SUBMITTED when they have submitted."""
    await check_may_answer(ctx, survey)
    if await ctx.loaders.viewer_submitted.load(survey.id):
        raise already_submitted()


@strawberry.type(description="One option of a choice or ranking question.")
class SurveyOption:
    position: int = strawberry.field(description="Its position (from 0): what answers' choices name.")
    label: str = strawberry.field(description="What the option says.")


@strawberry.type(description="When a question shows: the answer to an earlier question includes an option.")
class SurveyCondition:
    question_position: int = strawberry.field(description="Position of the earlier (choice) question.")
    option_position: int = strawberry.field(description="Position of the option its answer must include.")


@strawberry.type(description="A question of a survey.")
class SurveyQuestion:
    id: strawberry.ID = strawberry.field(description="The question's global id, to answer it.")
    position: int = strawberry.field(description="Its place in the survey, from 0.")
    kind: SurveyQuestionKind = strawberry.field(description="What an answer holds.")
    prompt: str = strawberry.field(description="What the question asks.")
    help: str = strawberry.field(description="More explanation; may be empty.")
    required: bool = strawberry.field(description="Whether a submission must answer it when it shows.")
    options: list[SurveyOption] = strawberry.field(description="The options (choice and ranking questions).")
    min_choices: int | None = strawberry.field(description="MULTIPLE_CHOICE: the fewest options to choose.")
    max_choices: int | None = strawberry.field(description="MULTIPLE_CHOICE: the most options to choose.")
    scale_min: int | None = strawberry.field(description="SCALE: the lowest value.")
    scale_max: int | None = strawberry.field(description="SCALE: the highest value.")
    min_label: str | None = strawberry.field(description="SCALE: what the lowest value means.")
    max_label: str | None = strawberry.field(description="SCALE: what the highest value means.")
    show_if: SurveyCondition | None = strawberry.field(
        description="Shown only when this condition holds; null: always shown."
    )

    @classmethod
    def from_model(cls, row: ms.SurveyQuestion) -> SurveyQuestion:
        kind: Any = row.kind
        condition = None
        if row.shown_if_position is not None and row.shown_if_option is not None:
            condition = SurveyCondition(question_position=row.shown_if_position, option_position=row.shown_if_option)
        return cls(
            id=strawberry.ID(encode_id("SurveyQuestion", row.id)),
            position=row.position,
            kind=SurveyQuestionKind(getattr(kind, "value", kind)),
            prompt=row.prompt,
            help=row.help,
            required=row.required,
            options=[SurveyOption(position=i, label=label) for i, label in enumerate(row.options or [])],
            min_choices=row.min_choices,
            max_choices=row.max_choices,
            scale_min=row.scale_min,
            scale_max=row.scale_max,
            min_label=row.min_label,
            max_label=row.max_label,
            show_if=condition,
        )


@strawberry.type(description="An answer to one question (in the viewer's own draft).")
class SurveyAnswer:
    question_id: strawberry.ID = strawberry.field(description="The question answered.")
    choices: list[int] | None = strawberry.field(description="Option positions (ranking: best first).")
    value: int | None = strawberry.field(description="SCALE: the value chosen.")
    text: str | None = strawberry.field(description="Text questions: the text.")


@strawberry.type(description="The viewer's saved, unsubmitted answers to a survey: theirs alone.")
class SurveyDraft:
    answers: list[SurveyAnswer] = strawberry.field(description="The answers saved, in question order.")


def answers_of(payload: dict[str, Any], questions: list[ms.SurveyQuestion]) -> list[SurveyAnswer]:
    """The API answers of a stored payload (question position -> value)."""
    answers = []
    for row in questions:
        value = payload.get(str(row.position))
        if value is None:
            continue
        answers.append(
            SurveyAnswer(
                question_id=strawberry.ID(encode_id("SurveyQuestion", row.id)),
                choices=list(value) if isinstance(value, list) else None,
                value=value if isinstance(value, int) and not isinstance(value, bool) else None,
                text=value if isinstance(value, str) else None,
            )
        )
    return answers


@strawberry.type(description="How a choice or ranking question's option fared.")
class SurveyOptionResult:
    option: SurveyOption = strawberry.field(description="The option.")
    count: int = strawberry.field(description="Counted submissions that chose it (ranking: that ranked it).")
    share: float = strawberry.field(description="count / answered; 0 when nobody answered yet.")
    average_position: float | None = strawberry.field(
        description="RANKING: its average rank, 1 being best; null for other kinds or before any answer."
    )
    borda_points: int | None = strawberry.field(
        description="RANKING: its Borda count (n - rank points per ranking); null for other kinds."
    )


@strawberry.type(description="How many counted submissions gave a scale value.")
class SurveyScaleCount:
    value: int = strawberry.field(description="The value.")
    count: int = strawberry.field(description="Counted submissions that gave it.")


@strawberry.type(description="The results of one question, over the counted submissions.")
class SurveyQuestionResult:
    question: SurveyQuestion = strawberry.field(description="The question.")
    answered: int = strawberry.field(description="Counted submissions that answered it.")
    options: list[SurveyOptionResult] = strawberry.field(
        description="Choice and ranking questions: per option, in the question's order; else empty."
    )
    scale: list[SurveyScaleCount] = strawberry.field(
        description="SCALE: how many gave each value, from scaleMin to scaleMax; else empty."
    )
    average: float | None = strawberry.field(description="SCALE: the average value; null otherwise or if none.")
    survey_pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    position: strawberry.Private[int]
    text_kind: strawberry.Private[bool]

    @strawberry.field(
        description="Text questions, for the survey's staff (officials, moderators, admins) only: the counted "
        "answers as an unordered set (shuffled on every read, with no author, time or order); null for "
        "anyone else and for other kinds."
    )
    async def text_answers(self, info: Info[Context, None]) -> list[str] | None:
        if not self.text_kind:
            return None
        member = await info.context.membership(self.territory_pk)
        if member is None or member.role not in SURVEY_STAFF:
            return None
        rows: list[Any] = await ms.SurveyResponse.filter(survey_id=self.survey_pk).values_list("answers", flat=True)
        texts = [a[str(self.position)] for a in rows if isinstance(a.get(str(self.position)), str)]
        random.SystemRandom().shuffle(texts)
        return texts


def question_result(row: ms.SurveyQuestion, tally: dict[str, Any], territory_pk: int) -> SurveyQuestionResult:
    """A question's results from the survey's tally (moved by folds only)."""
    entry = tally.get(str(row.position)) or {}
    answered = int(entry.get("answered", 0))
    kind = ms.QuestionKind(getattr(row.kind, "value", row.kind))
    question = SurveyQuestion.from_model(row)
    options: list[SurveyOptionResult] = []
    scale: list[SurveyScaleCount] = []
    average: float | None = None
    labels = row.options or []
    if kind in ms.CHOICE_KINDS:
        counts = entry.get("counts") or [0] * len(labels)
        options = [
            SurveyOptionResult(
                option=question.options[i], count=int(counts[i]), share=counts[i] / answered if answered else 0.0,
                average_position=None, borda_points=None,
            )
            for i in range(len(labels))
        ]
    elif kind == ms.QuestionKind.RANKING:
        ranks = entry.get("ranks") or [0] * len(labels)
        borda = entry.get("borda") or [0] * len(labels)
        options = [
            SurveyOptionResult(
                option=question.options[i], count=answered, share=1.0 if answered else 0.0,
                average_position=ranks[i] / answered if answered else None, borda_points=int(borda[i]),
            )
            for i in range(len(labels))
        ]
    elif kind == ms.QuestionKind.SCALE and row.scale_min is not None and row.scale_max is not None:
        values = entry.get("values") or {}
        scale = [SurveyScaleCount(value=v, count=int(values.get(str(v), 0))) for v in range(row.scale_min, row.scale_max + 1)]
        total = sum(s.value * s.count for s in scale)
        average = total / answered if answered else None
    return SurveyQuestionResult(
        question=question, answered=answered, options=options, scale=scale, average=average,
        survey_pk=row.survey_id, territory_pk=territory_pk, position=row.position,
        text_kind=kind in ms.TEXT_KINDS,
    )


@strawberry.type(description="A survey's results: never who answered what, only sums over batches.")
class SurveyResults:
    survey_id: strawberry.ID = strawberry.field(description="The survey's global id.")
    status: SurveyStatus = strawberry.field(description="The survey's status as of these results.")
    total_submissions: int = strawberry.field(description="Submissions made; moves with every submission.")
    counted_submissions: int = strawberry.field(
        description="Submissions already in the results: they are counted in batches of at least the "
        "territory's batch size, mixed across members, so nobody's answers move the results alone; all "
        "are counted when the survey closes (then final is true)."
    )
    final: bool = strawberry.field(description="Whether the survey is closed and every submission counted.")
    questions: list[SurveyQuestionResult] | None = strawberry.field(
        description="Per question, in order; null while resultsVisibility is AFTER_CLOSE and not final."
    )


@strawberry.type(description="A survey of a territory: ordered questions whose answers are as secret as ballots.")
class Survey(InTerritory, AboutProject, Node):
    id: strawberry.ID = strawberry.field(description="The survey's global id.")
    title: str = strawberry.field(description="The survey's title.")
    description: str = strawberry.field(description="What the survey is for; may be empty.")
    status: SurveyStatus = strawberry.field(description="Draft, scheduled, open or closed, as of now.")
    opens_at: dt.datetime = strawberry.field(description="When answering opens (once published).")
    closes_at: dt.datetime = strawberry.field(description="When answering closes at the latest.")
    verified_only: bool = strawberry.field(description="Whether only verified residents may submit.")
    results_visibility: ResultsVisibility = strawberry.field(
        description="Whether results show live or only once the survey is closed."
    )
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]
    project_pk: strawberry.Private[int | None]
    row: strawberry.Private[ms.Survey]

    @classmethod
    def from_model(cls, row: ms.Survey) -> Survey:
        visibility: Any = row.results_visibility
        return cls(
            id=strawberry.ID(encode_id("Survey", row.id)),
            title=row.title,
            description=row.description,
            status=survey_status(row),
            opens_at=as_utc(row.opens_at),
            closes_at=as_utc(row.closes_at),
            verified_only=row.verified_only,
            results_visibility=ResultsVisibility(getattr(visibility, "value", visibility)),
            pk=row.id,
            territory_pk=row.territory_id,
            project_pk=row.project_id,
            row=row,
        )

    loaded_questions: strawberry.Private[list[ms.SurveyQuestion] | None] = None

    async def _questions(self, loaders: Loaders) -> list[ms.SurveyQuestion]:
        # Through the request's loader (a page of surveys: one statement), once per object.
        if self.loaded_questions is None:
            self.loaded_questions = list(await loaders.questions_by_survey.load(self.pk))
        return self.loaded_questions

    @strawberry.field(description="The questions, in order.")
    async def questions(self, info: Info[Context, None]) -> list[SurveyQuestion]:
        return [SurveyQuestion.from_model(row) for row in await self._questions(info.context.loaders)]

    @strawberry.field(description="The results per question, over the submissions counted so far.")
    async def results(self, info: Info[Context, None]) -> SurveyResults:
        return await survey_results(info.context.loaders, self)

    @strawberry.field(description="Whether the viewer has submitted this survey (never what they answered).")
    async def viewer_has_submitted(self, info: Info[Context, None]) -> bool:
        return bool(await info.context.loaders.viewer_submitted.load(self.pk))

    @strawberry.field(
        description="Whether submitSurvey would take the viewer's answers now, else the code it would "
        "answer (UNAUTHENTICATED, NOT_A_MEMBER, EMAIL_NOT_VERIFIED, NOT_VERIFIED, SURVEY_NOT_OPEN, "
        "SURVEY_CLOSED, ALREADY_SUBMITTED); the answers themselves are checked on submission."
    )
    async def viewer_can_submit(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_submit_again(info.context, self.row))

    @strawberry.field(
        description="The viewer's saved, unsubmitted answers; null when none (submitting deletes the "
        "draft, and so does the survey's close). Only its author ever reads a draft."
    )
    async def viewer_draft(self, info: Info[Context, None]) -> SurveyDraft | None:
        member = await info.context.membership(self.territory_pk)
        if member is None:
            return None
        # A draft saved while its author's submission was committing may outlive it (the
        # submission deleted what it saw): it is never shown, and the close deletes it.
        if await info.context.loaders.viewer_submitted.load(self.pk):
            return None
        draft = await ms.SurveyDraft.filter(survey_id=self.pk, member_id=member.id).first()
        if draft is None:
            return None
        try:
            plain = open_padded(keys_for(info.context.settings.secret), draft_label(self.pk, member.id), bytes(draft.sealed))
        except BallotUnreadable:  # sealed under another secret: lost, as sealed ballots would be
            return None
        return SurveyDraft(answers=answers_of(json.loads(plain), await self._questions(info.context.loaders)))


async def survey_results(loaders: Loaders, survey: Survey) -> SurveyResults:
    """A survey's results as its row holds them (the tally folds wrote), the same for every
    viewer; text answers are the one per-viewer field below (staff only)."""
    row = survey.row
    total, counted = row.total_submissions, row.counted_submissions
    final = survey.status == SurveyStatus.CLOSED and counted >= total
    questions = None
    if final or survey.results_visibility == ResultsVisibility.LIVE:
        tally = row.tally or {}
        questions = [question_result(q, tally, survey.territory_pk) for q in await survey._questions(loaders)]
    return SurveyResults(
        survey_id=survey.id, status=survey.status, total_submissions=total, counted_submissions=counted,
        final=final, questions=questions,
    )


def draft_label(survey_pk: int, member_pk: int) -> str:
    """A draft opens only for its survey and its author (associated data)."""
    return f"survey-draft:{survey_pk}:{member_pk}"


def response_label(survey_pk: int) -> str:
    """A sealed response opens only for its survey (associated data)."""
    return f"survey:{survey_pk}"


@strawberry.input(description="When a question shows: the answer to an earlier choice question includes an option.")
class SurveyConditionInput:
    question_position: int = strawberry.field(description="Position (from 0) of an earlier choice question.")
    option_position: int = strawberry.field(description="Position (from 0) of one of its options.")


@strawberry.input(description="A question of a survey, at its place in the list.")
class SurveyQuestionInput:
    kind: SurveyQuestionKind = strawberry.field(description="What an answer holds.")
    prompt: str = strawberry.field(description="What it asks, 1 to 500 characters.")
    help: str | None = strawberry.field(default=None, description="More explanation, up to 2,000 characters.")
    required: bool | None = strawberry.field(default=None, description="Whether it must be answered; default false.")
    options: list[str] | None = strawberry.field(
        default=None, description="Choice: 2 to 20 distinct labels; ranking: 2 to 10. Other kinds: none."
    )
    min_choices: int | None = strawberry.field(default=None, description="MULTIPLE_CHOICE: default 1.")
    max_choices: int | None = strawberry.field(
        default=None, description="MULTIPLE_CHOICE: default the number of options."
    )
    scale_min: int | None = strawberry.field(default=None, description="SCALE: the lowest value, -10 to 10; default 1.")
    scale_max: int | None = strawberry.field(
        default=None, description="SCALE: the highest value, above scaleMin, at most 11 values; default 5."
    )
    min_label: str | None = strawberry.field(default=None, description="SCALE: what the lowest value means.")
    max_label: str | None = strawberry.field(default=None, description="SCALE: what the highest value means.")
    show_if: SurveyConditionInput | None = strawberry.field(
        default=None, description="Show it only when this condition holds; default always."
    )


@strawberry.input(description="A new survey (a DRAFT until openSurvey).")
class CreateSurveyInput:
    territory_id: strawberry.ID = strawberry.field(description="Global id of the territory.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a project of that territory the survey is about."
    )
    title: str = strawberry.field(description="1 to 200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 20,000 characters.")
    opens_at: dt.datetime | None = strawberry.field(default=None, description="When answering opens; default at openSurvey.")
    closes_at: dt.datetime = strawberry.field(description="When answering closes: in the future, after opensAt.")
    verified_only: bool | None = strawberry.field(default=None, description="Verified residents only; default false.")
    results_visibility: ResultsVisibility | None = strawberry.field(
        default=None, description="When results show; default LIVE."
    )
    questions: list[SurveyQuestionInput] = strawberry.field(description="The questions in order, 1 to 50.")


@strawberry.input(description="Changes to a DRAFT survey: what is given replaces what was.")
class UpdateSurveyInput:
    survey_id: strawberry.ID = strawberry.field(description="Global id of the survey.")
    title: str | None = strawberry.field(default=None, description="1 to 200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 20,000 characters.")
    opens_at: dt.datetime | None = strawberry.field(default=None, description="When answering opens.")
    closes_at: dt.datetime | None = strawberry.field(default=None, description="When answering closes.")
    verified_only: bool | None = strawberry.field(default=None, description="Verified residents only.")
    results_visibility: ResultsVisibility | None = strawberry.field(default=None, description="When results show.")
    questions: list[SurveyQuestionInput] | None = strawberry.field(
        default=None, description="The whole new list of questions, in order (replaces every question)."
    )


@strawberry.input(description="A survey to act on.")
class SurveyInput:
    survey_id: strawberry.ID = strawberry.field(description="Global id of the survey.")


@strawberry.input(description="An answer to one question; give the field its kind takes, and only it.")
class SurveyAnswerInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of the question.")
    choices: list[int] | None = strawberry.field(
        default=None, description="Choice: option positions; RANKING: every option position, best first."
    )
    value: int | None = strawberry.field(default=None, description="SCALE: a value from scaleMin to scaleMax.")
    text: str | None = strawberry.field(default=None, description="Text questions: the text (trimmed).")


@strawberry.input(description="A member's answers to a survey (a draft, or the submission).")
class SurveyAnswersInput:
    survey_id: strawberry.ID = strawberry.field(description="Global id of the survey.")
    answers: list[SurveyAnswerInput] = strawberry.field(description="At most one answer per question.")


@strawberry.input(description="An export of a survey's counted responses.")
class ExportSurveyInput:
    survey_id: strawberry.ID = strawberry.field(description="Global id of the survey.")
    format: SurveyExportFormat = strawberry.field(description="CSV or JSON.")


@strawberry.type(description="The result of a survey mutation.")
class SurveyPayload:
    survey: Survey | None = strawberry.field(description="The survey as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of saveSurveyDraft.")
class SurveyDraftPayload:
    survey: Survey | None = strawberry.field(description="The survey; null on failure.")
    draft: SurveyDraft | None = strawberry.field(description="The draft as saved; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="A survey's counted responses as a file: one row per response, no author column.")
class SurveyExport:
    format: SurveyExportFormat = strawberry.field(description="CSV or JSON.")
    content_type: str = strawberry.field(description="The media type of content.")
    filename: str = strawberry.field(description="A file name to save it under.")
    content: str = strawberry.field(
        description="The file: responses in random order, with no author, time or id; only counted ones."
    )
    responses: int = strawberry.field(description="How many responses it holds.")


@strawberry.type(description="The result of exportSurveyResponses.")
class SurveyExportPayload:
    export: SurveyExport | None = strawberry.field(description="The export; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


register_node("Survey", Survey.from_model)
