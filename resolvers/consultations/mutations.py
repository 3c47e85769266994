"""Mutations on consultations: drafts, publication, phases and their dates, documents, polls
(outcomes: outcomes.py; the clock's announcements: clock.py).

Staff here are the territory's officials and admins (CONSULTATION_EDITORS). A consultation
they cannot see (a draft, for anyone else) is NOT_FOUND; one they see but may not edit is
FORBIDDEN. Writes on one consultation's phases lock its row first, so two concurrent phase
additions cannot both pass the overlap check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from models import clock
from models.clock import as_utc
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import ConsultationStatus, PhaseKind
from models.consultations import PhaseItem as PhaseItemRow
from models.projects import Document as DocumentRow
from reads.nodes import load_row
from resolvers.consultations.checks import (
    CONSULTATION_EDITORS,
    check_consultation,
    check_no_overlap,
    check_phase,
    check_phase_input,
    consultation_payload,
    do_touch,
    notify_consultation,
    phase_payload,
    windows_of,
)
from resolvers.feed import do_add_to_feed
from resolvers.mutations import mutate
from resolvers.polls import check_project
from resolvers.projects import check_document
from resolvers.validation import Checks
from schema.consultations.inputs import (
    AddConsultationPhaseInput,
    AddPhaseDocumentInput,
    AttachPollToPhaseInput,
    ConsultationInput,
    ConsultationPayload,
    CreateConsultationInput,
    PhaseIdInput,
    PhasePayload,
    UpdateConsultationInput,
    UpdateConsultationPhaseInput,
)
from schema.errors import Refusal, UserErrorCode
from schema.relay import decode_id_of

PHASES_MAX = 20


@strawberry.type
class ConsultationsMutation:
    @strawberry.mutation(
        description=(
            "Create a consultation of a territory as a DRAFT, with its phases (officials and admins "
            "of the territory). Phases must not overlap (PHASES_OVERLAP). Nobody else sees it until "
            "publishConsultation."
        )
    )
    async def create_consultation(
        self, info: Info[Context, None], input: CreateConsultationInput
    ) -> ConsultationPayload:
        ctx = info.context

        async def work() -> ConsultationRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            if territory_id is None or await load_row(ctx, "Territory", territory_id) is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member = await ctx.check_role(territory_id, *CONSULTATION_EDITORS)
            checks = Checks()
            title = checks.title(input.title, "title")
            summary = checks.body(input.summary, "summary")
            project_id = await check_project(ctx, checks, territory_id, input.project_id)
            phases = input.phases or []
            if len(phases) > PHASES_MAX:
                checks.fail("At most {max} phases.", "phases", max=PHASES_MAX)
                phases = []
            values = [check_phase_input(checks, phase, "phases", str(i)) for i, phase in enumerate(phases)]
            checks.done()
            windows: list[tuple[dt.datetime, dt.datetime]] = []
            for i, value in enumerate(values):
                windows.append((value["starts_at"], value["ends_at"]))
                check_no_overlap(windows, "phases", str(i))
            row = await ConsultationRow.create(
                territory_id=territory_id, project_id=project_id, created_by_id=member.id,
                title=title, summary=summary,
            )
            if values:
                await PhaseRow.bulk_create([PhaseRow(consultation_id=row.id, **value) for value in values])
            return row

        return await mutate(ctx, work, consultation_payload)

    @strawberry.mutation(
        description="Change a consultation's title or summary, or close it (officials and admins of its territory)."
    )
    async def update_consultation(
        self, info: Info[Context, None], input: UpdateConsultationInput
    ) -> ConsultationPayload:
        ctx = info.context

        async def work() -> ConsultationRow:
            row, _ = await check_consultation(ctx, input.consultation_id, lock=True)
            checks = Checks()
            changes: dict[str, Any] = {}
            if input.title is not None:
                changes["title"] = checks.title(input.title, "title")
            if input.summary is not None:
                changes["summary"] = checks.body(input.summary, "summary")
            if input.closed is not None:
                if row.status == ConsultationStatus.DRAFT:
                    checks.fail("Publish the consultation before closing it.", "closed")
                else:
                    changes["status"] = ConsultationStatus.CLOSED if input.closed else ConsultationStatus.PUBLISHED
            checks.done()
            if changes:
                await ConsultationRow.filter(id=row.id).update(**changes)
                await do_touch(ctx, row)
            return await ConsultationRow.get(id=row.id)

        return await mutate(ctx, work, consultation_payload)

    @strawberry.mutation(
        description=(
            "Publish a draft consultation (officials and admins of its territory): everyone sees it, "
            "it enters the territory's feed and its phases run by their dates. It needs a phase. "
            "Publishing again changes nothing."
        )
    )
    async def publish_consultation(self, info: Info[Context, None], input: ConsultationInput) -> ConsultationPayload:
        ctx = info.context

        async def work() -> ConsultationRow:
            row, _ = await check_consultation(ctx, input.consultation_id, lock=True)
            if row.status != ConsultationStatus.DRAFT:
                return row
            if not await PhaseRow.filter(consultation_id=row.id).exists():
                raise Refusal.of(UserErrorCode.INVALID, "Add a phase before publishing.", "consultationId")
            now = clock.now()
            # (the row is locked: of concurrent publications, one finds the draft)
            await ConsultationRow.filter(id=row.id, status=ConsultationStatus.DRAFT).update(
                status=ConsultationStatus.PUBLISHED, published_at=now, updated_at=now
            )
            # Phases already running are announced by the publication itself.
            await PhaseRow.filter(consultation_id=row.id, starts_at__lte=now).update(start_announced=True)
            await do_add_to_feed(ctx, row.territory_id, "Consultation", row.id)
            notify_consultation(ctx, row.id, "updated")
            return await ConsultationRow.get(id=row.id)

        return await mutate(ctx, work, consultation_payload)

    @strawberry.mutation(
        description="Add a phase to a consultation (officials and admins of its territory); PHASES_OVERLAP "
        "when its dates overlap another phase."
    )
    async def add_consultation_phase(self, info: Info[Context, None], input: AddConsultationPhaseInput) -> PhasePayload:
        ctx = info.context

        async def work() -> PhaseRow:
            row, _ = await check_consultation(ctx, input.consultation_id, lock=True)
            checks = Checks()
            value = check_phase_input(checks, input.phase, "phase")
            checks.done()
            windows = await windows_of(row.id)
            if len(windows) >= PHASES_MAX:
                raise Refusal.of(UserErrorCode.INVALID, "At most {max} phases.", "phase", max=PHASES_MAX)
            check_no_overlap([*windows, (value["starts_at"], value["ends_at"])], "phase", "startsAt")
            phase = await PhaseRow.create(consultation_id=row.id, **value)
            await do_touch(ctx, row)
            return phase

        return await mutate(ctx, work, phase_payload)

    @strawberry.mutation(
        description="Change a phase (officials and admins of its territory): its dates must stay ordered "
        "(endsAt after startsAt, INVALID) and clear of the other phases (PHASES_OVERLAP)."
    )
    async def update_consultation_phase(
        self, info: Info[Context, None], input: UpdateConsultationPhaseInput
    ) -> PhasePayload:
        ctx = info.context

        async def work() -> PhaseRow:
            phase, consultation, _ = await check_phase(ctx, input.phase_id)
            checks = Checks()
            changes: dict[str, Any] = {}
            if input.kind is not None:
                changes["kind"] = PhaseKind(input.kind.name)
            if input.title is not None:
                changes["title"] = checks.title(input.title, "title")
            if input.description is not None:
                changes["description"] = checks.body(input.description, "description")
            for name in ("accepts_ideas", "accepts_questions"):
                if getattr(input, name) is not None:
                    changes[name] = getattr(input, name)
            starts = as_utc(input.starts_at) if input.starts_at is not None else as_utc(phase.starts_at)
            ends = as_utc(input.ends_at) if input.ends_at is not None else as_utc(phase.ends_at)
            if ends <= starts:
                checks.fail("Must be after startsAt.", "endsAt" if input.ends_at is not None else "startsAt")
            checks.done()
            if input.starts_at is not None or input.ends_at is not None:
                check_no_overlap([*await windows_of(consultation.id, besides=phase.id), (starts, ends)], "startsAt")
                changes.update(starts_at=starts, ends_at=ends)
                # A start moved ahead of the clock is announced when it comes; one moved into
                # the past unannounced is announced by the clock's next round.
                changes["start_announced"] = bool(phase.start_announced) and starts <= clock.now()
            if changes:
                await PhaseRow.filter(id=phase.id).update(**changes, updated_at=clock.now())
                await do_touch(ctx, consultation)
            return await PhaseRow.get(id=phase.id)

        return await mutate(ctx, work, phase_payload)

    @strawberry.mutation(
        description="Remove a phase with its documents (officials and admins of its territory); its ideas, "
        "questions and polls stay, in no phase. A started phase of a published consultation stays "
        "(PHASE_STARTED)."
    )
    async def remove_consultation_phase(self, info: Info[Context, None], input: PhaseIdInput) -> ConsultationPayload:
        ctx = info.context

        async def work() -> ConsultationRow:
            phase, consultation, _ = await check_phase(ctx, input.phase_id)
            if consultation.status != ConsultationStatus.DRAFT and as_utc(phase.starts_at) <= clock.now():
                raise Refusal.of(UserErrorCode.PHASE_STARTED, "This phase has started: it stays on record.",
                                 "phaseId")
            await PhaseRow.filter(id=phase.id).delete()
            await do_touch(ctx, consultation)
            return await ConsultationRow.get(id=consultation.id)

        return await mutate(ctx, work, consultation_payload)

    @strawberry.mutation(
        description="Publish a link document with a phase (officials and admins of its territory); a file is "
        "published with uploadDocument's phaseId, and replaceDocument gives a link document a file."
    )
    async def add_phase_document(self, info: Info[Context, None], input: AddPhaseDocumentInput) -> PhasePayload:
        ctx = info.context

        async def work() -> PhaseRow:
            phase, consultation, _ = await check_phase(ctx, input.phase_id)
            checks = Checks()
            document = check_document(checks, input.document, "document")
            checks.done()
            await DocumentRow.create(phase_id=phase.id, title=document.title, url=document.url, kind=document.kind)
            await do_touch(ctx, consultation)
            return phase

        return await mutate(ctx, work, phase_payload)

    @strawberry.mutation(
        description="Hold a poll of the same territory in a phase (officials and admins of its territory); "
        "a poll belongs to one phase at most (TAKEN)."
    )
    async def attach_poll_to_phase(self, info: Info[Context, None], input: AttachPollToPhaseInput) -> PhasePayload:
        ctx = info.context

        async def work() -> PhaseRow:
            phase, consultation, _ = await check_phase(ctx, input.phase_id)
            poll_pk = decode_id_of(input.poll_id, "Poll")
            poll = await load_row(ctx, "Poll", poll_pk) if poll_pk is not None else None
            if poll is None or poll.territory_id != consultation.territory_id:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such poll in this territory.", "pollId")
            _, created = await PhaseItemRow.get_or_create(
                subject_type="Poll", subject_id=poll.id, defaults={"phase_id": phase.id}
            )
            if not created and not await PhaseItemRow.filter(
                subject_type="Poll", subject_id=poll.id, phase_id=phase.id
            ).exists():
                raise Refusal.of(UserErrorCode.TAKEN, "This poll is held in another phase.", "pollId")
            await do_touch(ctx, consultation)
            return phase

        return await mutate(ctx, work, phase_payload)
