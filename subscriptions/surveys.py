"""surveyResults: a survey's results, live. One hub per watched survey reads them once per tick.

The results move by batches only (folds, docs/adr/0021); a submission moves the count of
submissions. Each subscriber's right to see the survey (drafts: its staff) is checked at
the start; a published survey never becomes a draft again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.envelopes import survey_channel
from models.clock import as_utc, now
from models.surveys import Survey as SurveyRow
from reads.loaders import Loaders
from schema.relay import decode_id_of
from schema.surveys.results import SurveyResults
from schema.surveys.survey import Survey, may_see, survey_results
from subscriptions.hubs import Hubs, TickedHub, hubs_for, seconds_until_window_change

log = logging.getLogger("parvis.live")

@dataclass(frozen=True)
class SurveySnapshot:
    """A survey's results at one tick, the same object for every subscriber."""

    row: SurveyRow
    results: SurveyResults

    @property
    def final(self) -> bool:
        return self.results.final

    @property
    def key(self) -> tuple[Any, ...]:
        r = self.results
        return (r.total_submissions, r.counted_submissions, r.status, r.questions is None)


class SurveyHub(TickedHub[SurveySnapshot]):
    """One task per watched survey: reads its results once per coalesced tick, fans them out."""

    def __init__(self, hubs: Hubs, survey_id: int) -> None:
        super().__init__(hubs, ("survey", survey_id), survey_channel(survey_id))
        self.survey_id = survey_id

    async def _read(self) -> SurveySnapshot | None:
        row = await SurveyRow.filter(id=self.survey_id).first()
        if row is None:
            return None
        return SurveySnapshot(row=row, results=await survey_results(Loaders(None), Survey.from_model(row)))

    def _until_change(self, snapshot: SurveySnapshot) -> float | None:
        """Until the survey opens or closes by the clock (None: a draft, nothing scheduled)."""
        if snapshot.row.published_at is None:
            return None
        return seconds_until_window_change(as_utc(snapshot.row.opens_at), as_utc(snapshot.row.closes_at), now())


def survey_hub(hubs: Hubs, survey_id: int) -> SurveyHub:
    return hubs.get(("survey", survey_id), lambda hubs: SurveyHub(hubs, survey_id))


@strawberry.type
class SurveysSubscription:
    @strawberry.subscription(
        description=(
            "A survey's results at once, then after every change (a submission moves "
            "totalSubmissions; the per-question results move by batches). The last message has "
            "final: true, once the survey is closed and every submission counted; the stream then "
            "completes. While an AFTER_CLOSE survey is open, questions is null."
        )
    )
    async def survey_results(
        self, info: Info[Context, None], survey_id: strawberry.ID
    ) -> AsyncGenerator[SurveyResults, None]:
        ctx = info.context
        ctx.fresh_loaders()
        pk = decode_id_of(survey_id, "Survey")
        row = await SurveyRow.filter(id=pk).first() if pk is not None else None
        if row is None or not await may_see(ctx, row):
            raise not_found("No such survey.")
        async with survey_hub(hubs_for(ctx.broker), row.id).join() as slot:
            while (snapshot := await slot.get()) is not None:
                ctx.fresh_loaders()
                yield snapshot.results
                if snapshot.results.final:
                    return
