"""A survey: who may see and answer it, and the type itself.

Answers are as secret as ballots (docs/adr/0021): the API tells a viewer whether they
submitted and shows them their own draft, never anyone's submission; results are sums moved
by batches; text answers reach the survey's staff only, as an unordered set."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.sealing import BallotUnreadable, keys_for, open_padded
from models import surveys as ms
from models.accounts import Member
from models.clock import as_utc
from reads.loaders import Loaders
from reads.nodes import sees
from schema.consultations.state import check_phase_current
from schema.errors import Refusal, UserErrorCode
from schema.permissions import Permission, check_member, permission
from schema.placement import AboutProject, InTerritory
from schema.polls import ResultsVisibility
from schema.relay import Node, encode_id, register_node
from schema.surveys.kinds import (
    SURVEY_STAFF,
    SurveyStatus,
    draft_label,
    survey_status,
)
from schema.surveys.questions import (
    SurveyDraft,
    SurveyQuestion,
    answers_of,
)
from schema.surveys.results import (
    SurveyResults,
    question_result,
)


async def may_see_draft(ctx: Context, row: ms.Survey) -> bool:
    """Published surveys for everyone; drafts for the territory's officials, moderators and admins."""
    if row.published_at is not None:
        return True
    member = await ctx.membership(row.territory_id)
    return member is not None and member.role in SURVEY_STAFF


async def may_see(ctx: Context, row: ms.Survey) -> bool:
    """may_see_draft, and a survey a phase holds only for whom sees the phase's consultation
    (a draft consultation's: its officials and staff)."""
    return await may_see_draft(ctx, row) and await sees(ctx, "Survey", row)


def already_submitted() -> Refusal:
    return Refusal.of(UserErrorCode.ALREADY_SUBMITTED, "You already submitted this survey.", "surveyId")


async def check_may_answer(ctx: Context, survey: ms.Survey, at: dt.datetime | None = None) -> Member:
    """saveSurveyDraft's and submitSurvey's checks of the viewer and the survey's window, for a
    survey the viewer may see: a member (NOT_A_MEMBER, EMAIL_NOT_VERIFIED), verified when the
    survey says so (NOT_VERIFIED), the survey open (SURVEY_NOT_OPEN, SURVEY_CLOSED), and its
    phase, if a phase holds it, current in a published consultation (PHASE_CLOSED). One
    submission per member is the database's (the unique participation), not checked here."""
    member = await check_member(ctx, survey.territory_id, "answer this survey", "surveyId")
    if survey.verified_only and not member.verified:
        raise Refusal.of(UserErrorCode.NOT_VERIFIED, "Only verified residents may answer this survey.", "surveyId")
    status = survey_status(survey, at)
    if status == SurveyStatus.CLOSED:
        raise Refusal.of(UserErrorCode.SURVEY_CLOSED, "This survey has closed.", "surveyId")
    if status != SurveyStatus.OPEN:
        raise Refusal.of(UserErrorCode.SURVEY_NOT_OPEN, "This survey is not open yet.", "surveyId")
    if survey.phase_id is not None:
        # A phase's survey takes answers only while its phase does (and its own window).
        await check_phase_current(ctx.loaders, survey.phase_id, at)
    return member


async def check_may_submit_again(ctx: Context, survey: ms.Survey) -> None:
    """What submitSurvey would answer the viewer now (before checking answers): its checks,
    then ALREADY_SUBMITTED when they have submitted."""
    await check_may_answer(ctx, survey)
    if await ctx.loaders.viewer_submitted.load(survey.id):
        raise already_submitted()



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
    updated_at: dt.datetime = strawberry.field(
        description="When it was last changed, opened or closed by its staff or the clock; its creation until then."
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
            updated_at=as_utc(row.updated_at or row.created_at),
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
        "SURVEY_CLOSED, PHASE_CLOSED, ALREADY_SUBMITTED); the answers themselves are checked on submission."
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



register_node("Survey", Survey.from_model)
