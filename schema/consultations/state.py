"""Where a consultation phase stands in time, by the clock, and the check that a phase is
taking part now: shared by the consultation types and by what a phase holds (surveys), so
neither imports the other's types."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from models import consultations as mc
from models.clock import as_utc, now
from reads.loaders import Loaders
from schema.errors import Refusal, UserErrorCode
from sharing.horizon import note_boundary


@strawberry.enum(description="Where a phase stands in time.")
class PhaseState(Enum):
    UPCOMING = strawberry.enum_value("UPCOMING", description="startsAt is ahead.")
    CURRENT = strawberry.enum_value("CURRENT", description="Between startsAt (included) and endsAt.")
    PAST = strawberry.enum_value("PAST", description="endsAt has passed.")


def phase_state(row: mc.ConsultationPhase, at: dt.datetime | None = None) -> PhaseState:
    """UPCOMING before startsAt, CURRENT until endsAt, PAST after; an answer kept for reuse
    expires at the boundary compared with."""
    at = at or now()
    starts, ends = as_utc(row.starts_at), as_utc(row.ends_at)
    if at < starts:
        note_boundary(starts)
        return PhaseState.UPCOMING
    if at < ends:
        note_boundary(ends)
        return PhaseState.CURRENT
    return PhaseState.PAST


async def check_phase_current(loaders: Loaders, phase_pk: int, at: dt.datetime | None = None) -> None:
    """PHASE_CLOSED unless the phase is current in a published consultation: what a survey
    held by a phase checks on top of its own window."""
    phase = await loaders.by_id(mc.ConsultationPhase).load(phase_pk)
    consultation = await loaders.by_id(mc.Consultation).load(phase.consultation_id) if phase is not None else None
    if (phase is None or consultation is None or consultation.status != mc.ConsultationStatus.PUBLISHED
            or phase_state(phase, at) is not PhaseState.CURRENT):
        raise Refusal.of(UserErrorCode.PHASE_CLOSED,
                         "This survey's phase is not the current one: it takes no answers now.", "surveyId")
