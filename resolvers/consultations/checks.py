"""What the consultation mutations check and answer: the consultation or phase the viewer may
edit (locked), a phase's columns and dates, and the payloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from access.context import Context
from events.envelopes import Event, consultation_channel
from models import clock
from models.accounts import Member, Role
from models.clock import as_utc
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import Outcome as OutcomeRow
from models.consultations import PhaseKind
from reads.nodes import load_row
from resolvers.validation import Checks
from schema.consultations.inputs import (
    ConsultationPayload,
    OutcomePayload,
    PhaseInput,
    PhasePayload,
)
from schema.consultations.types import Consultation, ConsultationPhase, Outcome
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id_of

CONSULTATION_EDITORS = (Role.OFFICIAL, Role.ADMIN)


# -- checks -------------------------------------------------------------------------------------


async def check_consultation(ctx: Context, global_id: str, *, lock: bool = False) -> tuple[ConsultationRow, Member]:
    """The consultation the viewer may edit (NOT_FOUND when they may not see it, FORBIDDEN
    when they see it without editing rights), locked for the transaction when `lock`."""
    ctx.require_account()
    pk = decode_id_of(global_id, "Consultation")
    row = await load_row(ctx, "Consultation", pk) if pk is not None else None
    if row is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such consultation.", "consultationId")
    member = await ctx.check_role(row.territory_id, *CONSULTATION_EDITORS)
    if lock:
        row = await ConsultationRow.filter(id=row.id).select_for_update().get()
    return row, member


async def check_phase(ctx: Context, global_id: str) -> tuple[PhaseRow, ConsultationRow, Member]:
    """The phase the viewer may edit, its consultation locked (see check_consultation)."""
    ctx.require_account()
    pk = decode_id_of(global_id, "ConsultationPhase")
    phase = await load_row(ctx, "ConsultationPhase", pk) if pk is not None else None
    if phase is None:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such phase.", "phaseId")
    consultation = await ctx.loaders.row_of(ConsultationRow, phase.consultation_id)
    member = await ctx.check_role(consultation.territory_id, *CONSULTATION_EDITORS)
    consultation = await ConsultationRow.filter(id=consultation.id).select_for_update().get()
    return await PhaseRow.get(id=phase.id), consultation, member


def check_phase_input(checks: Checks, phase: PhaseInput, *field: str) -> dict[str, Any]:
    """The columns of a new phase; failures are collected in `checks`."""
    kind = PhaseKind(phase.kind.name)
    starts, ends = as_utc(phase.starts_at), as_utc(phase.ends_at)
    if ends <= starts:
        checks.fail("Must be after startsAt.", *field, "endsAt")
    return {
        "kind": kind,
        "title": checks.title(phase.title, *field, "title"),
        "description": checks.body(phase.description, *field, "description"),
        "starts_at": starts,
        "ends_at": ends,
        "accepts_ideas": phase.accepts_ideas if phase.accepts_ideas is not None else kind is PhaseKind.DEBATE,
        "accepts_questions": (
            phase.accepts_questions if phase.accepts_questions is not None
            else kind in (PhaseKind.INFORMATION, PhaseKind.DEBATE)
        ),
    }


def overlaps(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def check_no_overlap(windows: list[tuple[dt.datetime, dt.datetime]], *field: str) -> None:
    """PHASES_OVERLAP when the last window overlaps any before it (a phase ends when the
    next may start: touching windows do not overlap)."""
    new = windows[-1]
    if any(overlaps(new, other) for other in windows[:-1]):
        raise Refusal.of(UserErrorCode.PHASES_OVERLAP, "This phase overlaps another phase of the consultation.",
                         *field)


async def windows_of(consultation_id: int, *, besides: int | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    query = PhaseRow.filter(consultation_id=consultation_id)
    if besides is not None:
        query = query.exclude(id=besides)
    return [(as_utc(p.starts_at), as_utc(p.ends_at)) for p in await query]


def notify_consultation(ctx: Context, consultation_id: int, change: str) -> None:
    """Live watchers of the consultation re-read it once this write commits."""
    ctx.queue(Event(channel=consultation_channel(consultation_id), type=change, data={"id": consultation_id}))


async def do_touch(ctx: Context, consultation: ConsultationRow, change: str = "updated") -> None:
    await ConsultationRow.filter(id=consultation.id).update(updated_at=clock.now())
    notify_consultation(ctx, consultation.id, change)


# -- payloads -----------------------------------------------------------------------------------


def consultation_payload(row: ConsultationRow | None, errors: list[UserError]) -> ConsultationPayload:
    return ConsultationPayload(consultation=Consultation.from_model(row) if row else None, user_errors=errors)


def phase_payload(row: PhaseRow | None, errors: list[UserError]) -> PhasePayload:
    return PhasePayload(phase=ConsultationPhase.from_model(row) if row else None, user_errors=errors)


def outcome_payload(row: OutcomeRow | None, errors: list[UserError]) -> OutcomePayload:
    return OutcomePayload(outcome=Outcome.from_model(row) if row else None, user_errors=errors)
