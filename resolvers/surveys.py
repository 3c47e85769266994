"""Surveys' root fields and mutations: staff write DRAFT surveys and open and close them;
members save drafts and submit once; staff export the counted responses (docs/adr/0021)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from typing import Any

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q, Subquery

from access.context import Context
from models import clock
from models.clock import as_utc
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import ConsultationStatus
from models.polls import ResultsVisibility as ResultsVisibilityRow
from models.surveys import QuestionKind
from models.surveys import Survey as SurveyRow
from models.surveys import SurveyQuestion as QuestionRow
from models.surveys import SurveyResponse as ResponseRow
from models.territories import Territory as TerritoryRow
from reads.nodes import load_row
from resolvers.consultations.checks import do_touch
from resolvers.mutations import check_account_rate, mutate, run_in_transaction
from resolvers.polls import check_project
from resolvers.survey_answers import check_body, check_questions
from resolvers.survey_box import (
    Submitted,
    check_survey,
    do_close,
    do_fold_after_commit,
    do_save_draft,
    do_submit,
    fold_after,
)
from resolvers.validation import Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import Connection, decode_id_of, paginate
from schema.surveys.inputs import (
    CreateSurveyInput,
    ExportSurveyInput,
    SurveyAnswersInput,
    SurveyDraftPayload,
    SurveyExport,
    SurveyExportPayload,
    SurveyInput,
    SurveyPayload,
    UpdateSurveyInput,
)
from schema.surveys.kinds import SURVEY_MANAGERS, SURVEY_STAFF, SurveyExportFormat
from schema.surveys.questions import SurveyDraft, answers_of
from schema.surveys.survey import Survey


def check_dates(checks: Checks, opens_at: dt.datetime | None, closes_at: dt.datetime, now: dt.datetime) -> None:
    closes = as_utc(closes_at)
    if closes <= now:
        checks.fail("Must be in the future.", "closesAt")
    elif opens_at is not None and closes <= as_utc(opens_at):
        checks.fail("Must be after opensAt.", "closesAt")


async def do_set_questions(survey_pk: int, rows: list[dict[str, Any]]) -> None:
    await QuestionRow.filter(survey_id=survey_pk).delete()
    await QuestionRow.bulk_create([QuestionRow(survey_id=survey_pk, **row) for row in rows])


async def check_survey_phase(
    ctx: Context, checks: Checks, territory_id: int, global_id: str | None
) -> tuple[int, ConsultationRow] | None:
    """The pk of a phase of the territory the viewer sees, with its consultation, else a
    NOT_FOUND error in `checks` (a draft consultation's phase exists for its staff only)."""
    if global_id is None:
        return None
    pk = decode_id_of(global_id, "ConsultationPhase")
    phase = await load_row(ctx, "ConsultationPhase", pk) if pk is not None else None
    consultation = await ctx.loaders.by_id(ConsultationRow).load(phase.consultation_id) if phase else None
    if phase is None or consultation is None or consultation.territory_id != territory_id:
        checks.errors.append(UserError(field=["input", "phaseId"], message="No such phase in this territory.",
                                       code=UserErrorCode.NOT_FOUND))
        return None
    return phase.id, consultation


def payload(row: SurveyRow | None, errors: list[UserError]) -> SurveyPayload:
    return SurveyPayload(survey=Survey.from_model(row) if row else None, user_errors=errors)


async def check_managed(ctx: Context, global_id: str) -> SurveyRow:
    ctx.require_account()
    survey = await check_survey(ctx, global_id)
    await ctx.check_role(survey.territory_id, *SURVEY_MANAGERS)
    return survey


def check_draft(survey: SurveyRow) -> None:
    if survey.published_at is not None:
        raise Refusal.of(UserErrorCode.SURVEY_NOT_DRAFT, "This survey is published: it no longer changes.", "surveyId")


def export_content(fmt: SurveyExportFormat, questions: list[QuestionRow], responses: list[dict[str, Any]]) -> str:
    """The responses as a file with one column per question, no author, no time, no id."""

    def cell(row: QuestionRow, value: Any) -> Any:
        if value is None:
            return None
        kind = QuestionKind(getattr(row.kind, "value", row.kind))
        if kind == QuestionKind.SINGLE_CHOICE:
            return row.options[value[0]]
        if kind in (QuestionKind.MULTIPLE_CHOICE, QuestionKind.RANKING):
            return [row.options[i] for i in value]
        return value

    table = [[cell(q, r.get(str(q.position))) for q in questions] for r in responses]
    if fmt == SurveyExportFormat.JSON:
        return json.dumps(
            {"questions": [q.prompt for q in questions], "responses": table}, ensure_ascii=False, indent=1
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(q.prompt) for q in questions])
    for line in table:
        writer.writerow(["" if v is None else inert(" | ".join(v)) if isinstance(v, list) else inert(v) for v in line])
    return out.getvalue()


# What makes a spreadsheet read a cell as a formula (CSV injection, CWE-1236).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: one that starts like a formula (an answer
    `=HYPERLINK(...)`) goes behind a quote; numbers stay numbers."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


@strawberry.type
class SurveysQuery:
    @strawberry.field(description="A survey by its global id; null if unknown or a draft the viewer may not see.")
    async def survey(self, info: Info[Context, None], id: strawberry.ID) -> Survey | None:
        pk = decode_id_of(id, "Survey")
        row = await load_row(info.context, "Survey", pk) if pk is not None else None
        return Survey.from_model(row) if row is not None else None

    @strawberry.field(
        description="A territory's surveys, newest first; drafts, and those of draft consultations, for its staff only."
    )
    async def surveys(
        self,
        info: Info[Context, None],
        territory_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Survey]:
        pk = decode_id_of(territory_id, "Territory") or 0
        query = SurveyRow.filter(territory_id=pk)
        member = await info.context.membership(pk)
        if member is None or member.role not in SURVEY_STAFF:
            # Nor the surveys of a draft consultation's phases (OR IS NULL: NOT IN on a NULL is unknown).
            drafts = PhaseRow.filter(consultation__status=ConsultationStatus.DRAFT).values("id")
            query = query.filter(published_at__isnull=False).filter(
                Q(phase_id__isnull=True) | ~Q(phase_id__in=Subquery(drafts))
            )
        return await paginate(query, Survey.from_model, first=first, after=after)


@strawberry.type
class SurveysMutation:
    @strawberry.mutation(
        description="Create a DRAFT survey in a territory (its officials and admins) with its whole list "
        "of questions; only its staff see it until openSurvey."
    )
    async def create_survey(self, info: Info[Context, None], input: CreateSurveyInput) -> SurveyPayload:
        ctx = info.context

        async def work() -> SurveyRow:
            ctx.require_account()
            territory_pk = decode_id_of(input.territory_id, "Territory")
            territory = await TerritoryRow.filter(id=territory_pk).first() if territory_pk else None
            if territory is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member = await ctx.check_role(territory.id, *SURVEY_MANAGERS)
            checks = Checks()
            title = checks.title(input.title, "title")
            description = check_body(checks, input.description)
            now = clock.now()
            check_dates(checks, input.opens_at, input.closes_at, now)
            rows = check_questions(checks, input.questions)
            project_pk = await check_project(ctx, checks, territory.id, input.project_id)
            consultation = await check_survey_phase(ctx, checks, territory.id, input.phase_id)
            checks.done()
            survey = await SurveyRow.create(
                territory_id=territory.id,
                project_id=project_pk,
                phase_id=consultation[0] if consultation else None,
                created_by_id=member.id,
                title=title,
                description=description,
                verified_only=bool(input.verified_only),
                results_visibility=ResultsVisibilityRow(input.results_visibility.name)
                if input.results_visibility is not None else ResultsVisibilityRow.LIVE,
                opens_at=as_utc(input.opens_at) if input.opens_at is not None else now,
                closes_at=as_utc(input.closes_at),
                tally={},
            )
            await do_set_questions(survey.id, rows)
            if consultation is not None:
                await do_touch(ctx, consultation[1])
            return survey

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description="Change a DRAFT survey (its officials and admins): what is given replaces what was, "
        "the questions as a whole list. A published survey answers SURVEY_NOT_DRAFT."
    )
    async def update_survey(self, info: Info[Context, None], input: UpdateSurveyInput) -> SurveyPayload:
        ctx = info.context

        async def work() -> SurveyRow:
            survey = await check_managed(ctx, input.survey_id)
            check_draft(survey)
            checks = Checks()
            changes: dict[str, Any] = {}
            if input.title is not None:
                changes["title"] = checks.title(input.title, "title")
            if input.description is not None:
                changes["description"] = check_body(checks, input.description)
            opens = input.opens_at if input.opens_at is not None else survey.opens_at
            closes = input.closes_at if input.closes_at is not None else survey.closes_at
            if input.opens_at is not None or input.closes_at is not None:
                check_dates(checks, opens, closes, clock.now())
                changes["opens_at"], changes["closes_at"] = as_utc(opens), as_utc(closes)
            if input.verified_only is not None:
                changes["verified_only"] = input.verified_only
            if input.results_visibility is not None:
                changes["results_visibility"] = ResultsVisibilityRow(input.results_visibility.name)
            rows = check_questions(checks, input.questions) if input.questions is not None else None
            checks.done()
            # Under the row lock: a concurrent openSurvey cannot slip between check and write.
            updated = await SurveyRow.filter(id=survey.id, published_at__isnull=True).update(
                **(changes or {"title": survey.title}), updated_at=clock.now()
            )
            if not updated:
                raise Refusal.of(UserErrorCode.SURVEY_NOT_DRAFT, "This survey is published.", "surveyId")
            if rows is not None:
                await do_set_questions(survey.id, rows)
            return await SurveyRow.get(id=survey.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description="Publish a DRAFT survey (its officials and admins): members may answer from opensAt "
        "(now if it has passed) to closesAt; its questions no longer change."
    )
    async def open_survey(self, info: Info[Context, None], input: SurveyInput) -> SurveyPayload:
        ctx = info.context

        async def work() -> SurveyRow:
            survey = await check_managed(ctx, input.survey_id)
            check_draft(survey)
            now = clock.now()
            if as_utc(survey.closes_at) <= now:
                raise Refusal.of(UserErrorCode.INVALID, "closesAt has passed: move it first.", "surveyId")
            opens = max(as_utc(survey.opens_at), now)
            await SurveyRow.filter(id=survey.id, published_at__isnull=True).update(published_at=now, opens_at=opens, updated_at=now)
            return await SurveyRow.get(id=survey.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description="Close a published survey now (its officials and admins): every submission left is "
        "counted and the results are final. Closing a closed survey changes nothing."
    )
    async def close_survey(self, info: Info[Context, None], input: SurveyInput) -> SurveyPayload:
        ctx = info.context

        async def work() -> SurveyRow:
            survey = await check_managed(ctx, input.survey_id)
            if survey.published_at is None:
                raise Refusal.of(UserErrorCode.SURVEY_NOT_OPEN, "A draft is not open: open it first.", "surveyId")
            await do_close(ctx, survey, clock.now())
            return await SurveyRow.get(id=survey.id)

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description="Save the viewer's answers to an open survey without submitting them (members): "
        "each answer is checked against its question, the draft replaces the previous one, and only "
        "its author reads it back (Survey.viewerDraft)."
    )
    async def save_survey_draft(self, info: Info[Context, None], input: SurveyAnswersInput) -> SurveyDraftPayload:
        ctx = info.context
        if limited := await check_account_rate(ctx, "vote", "drafts"):
            return SurveyDraftPayload(survey=None, draft=None, user_errors=limited)

        async def work() -> tuple[Any, dict[str, Any]]:
            return await do_save_draft(ctx, input)

        done, errors = await run_in_transaction(ctx, work)
        if done is None:
            return SurveyDraftPayload(survey=None, draft=None, user_errors=errors)
        box, answers = done
        return SurveyDraftPayload(
            survey=Survey.from_model(box.survey),
            draft=SurveyDraft(answers=answers_of(answers, box.questions)),
            user_errors=[],
        )

    @strawberry.mutation(
        description="Submit the viewer's answers to an open survey (members; verified residents when it "
        "says so): one submission per member, conditions evaluated (ANSWER_HIDDEN, ANSWER_REQUIRED). "
        "The answers are secret: only that you submitted is recorded; your draft is deleted."
    )
    async def submit_survey(self, info: Info[Context, None], input: SurveyAnswersInput) -> SurveyPayload:
        ctx = info.context
        if limited := await check_account_rate(ctx, "vote", "submissions"):
            return SurveyPayload(survey=None, user_errors=limited)

        async def work() -> Submitted:
            return await do_submit(ctx, input)

        done, errors = await run_in_transaction(ctx, work)
        if done is None:
            return SurveyPayload(survey=None, user_errors=errors)
        # If enough are sealed now, a batch is counted in a transaction of its own.
        if (fold := fold_after(done)) is not None:
            await do_fold_after_commit(ctx, fold)
        return SurveyPayload(survey=Survey.from_model(await SurveyRow.get(id=done.survey.id)), user_errors=[])

    @strawberry.mutation(
        description="The counted responses of a survey as a CSV or JSON file (its officials, moderators "
        "and admins): one row per response in random order, no author, time or id column. Responses "
        "still sealed (fewer than a batch) are not in it until counted."
    )
    async def export_survey_responses(
        self, info: Info[Context, None], input: ExportSurveyInput
    ) -> SurveyExportPayload:
        ctx = info.context

        async def work() -> SurveyExport:
            ctx.require_account()
            survey = await check_survey(ctx, input.survey_id)
            await ctx.check_role(survey.territory_id, *SURVEY_STAFF)
            questions = list(await QuestionRow.filter(survey_id=survey.id).order_by("position"))
            responses: list[Any] = list(
                await ResponseRow.filter(survey_id=survey.id).values_list("answers", flat=True)
            )
            random.SystemRandom().shuffle(responses)
            csv_ = input.format == SurveyExportFormat.CSV
            return SurveyExport(
                format=input.format,
                content_type="text/csv; charset=utf-8" if csv_ else "application/json",
                filename=f"survey-{survey.id}.{'csv' if csv_ else 'json'}",
                content=export_content(input.format, questions, responses),
                responses=len(responses),
            )

        done, errors = await run_in_transaction(ctx, work)
        return SurveyExportPayload(export=done, user_errors=errors)
