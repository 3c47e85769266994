"""The inputs and payloads of the survey mutations."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.errors import UserError
from schema.polls import ResultsVisibility
from schema.surveys.kinds import (
    SurveyExportFormat,
    SurveyQuestionKind,
)
from schema.surveys.questions import (
    SurveyDraft,
)
from schema.surveys.survey import Survey


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
    phase_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of a consultation phase of that territory to hold the survey (any kind of phase): "
        "it then takes answers only while the phase is current (PHASE_CLOSED otherwise), and is seen only by "
        "whom sees the consultation.",
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
