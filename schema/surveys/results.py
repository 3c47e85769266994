"""A survey's results per question: sums over the submissions counted by batches; text
answers for its staff only, as an unordered set (docs/adr/0021)."""

from __future__ import annotations

import random
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from models import surveys as ms
from schema.surveys.kinds import (
    SURVEY_STAFF,
    SurveyStatus,
)
from schema.surveys.questions import (
    SurveyOption,
    SurveyQuestion,
)


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
