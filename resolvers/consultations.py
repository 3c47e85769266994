"""Mutations on consultations: drafts, phases and their dates, documents, polls, outcomes;
and the clock's announcements of phases that start (feed, followers, live stream).

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
from events.envelopes import Event, consultation_channel
from models import clock
from models.accounts import Member, Role
from models.clock import as_utc
from models.consultations import ITEM_KINDS, ConsultationStatus, PhaseKind
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import Outcome as OutcomeRow
from models.consultations import OutcomeItem as OutcomeItemRow
from models.consultations import PhaseDocument as PhaseDocumentRow
from models.consultations import PhaseItem as PhaseItemRow
from models.ideas import Idea as IdeaRow
from models.notifications import NotificationKind
from models.questions import Question as QuestionRow
from reads.nodes import load_row
from resolvers.feed import do_add_to_feed
from resolvers.mutations import mutate, run_in_transaction
from resolvers.notifications import do_notify_followers, do_notify_many
from resolvers.polls import check_project
from resolvers.projects import check_document
from resolvers.validation import Checks
from schema.consultations import (
    AddConsultationPhaseInput,
    AddPhaseDocumentInput,
    AttachPollToPhaseInput,
    Consultation,
    ConsultationInput,
    ConsultationPayload,
    ConsultationPhase,
    CreateConsultationInput,
    Outcome,
    OutcomePayload,
    PhaseIdInput,
    PhaseInput,
    PhasePayload,
    PublishOutcomeInput,
    UpdateConsultationInput,
    UpdateConsultationPhaseInput,
)
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id, decode_id_of

CONSULTATION_EDITORS = (Role.OFFICIAL, Role.ADMIN)
PHASES_MAX = 20
OUTCOME_ITEMS_MAX = 100


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


# -- the clock ----------------------------------------------------------------------------------


async def do_announce_due_phases(ctx: Context, now: dt.datetime | None = None) -> int:
    """Announce the phases of published consultations that started with nobody acting: the
    consultation enters the feed again, its followers are told, its live watchers re-read
    it. Each phase is claimed once (safe from every process at once); a phase that already
    ended unannounced (the server was down all along) is only marked. Returns how many
    phases it claimed."""
    now = now or clock.now()
    due = await PhaseRow.filter(
        start_announced=False, starts_at__lte=now, consultation__status=ConsultationStatus.PUBLISHED
    ).order_by("starts_at").limit(100)
    claimed = 0
    for phase in due:

        async def work(phase: PhaseRow = phase) -> bool:
            if not await PhaseRow.filter(id=phase.id, start_announced=False).update(start_announced=True):
                return False
            if as_utc(phase.ends_at) <= now:
                return True
            consultation = await ConsultationRow.get(id=phase.consultation_id)
            await do_add_to_feed(ctx, consultation.territory_id, "Consultation", consultation.id)
            await do_notify_followers(
                ctx, NotificationKind.CONSULTATION_PHASE_STARTED, "Consultation", consultation.id,
                f"“{consultation.title}”: the phase “{phase.title}” has started.", told=set(),
            )
            notify_consultation(ctx, consultation.id, "phase")
            return True

        done, _ = await run_in_transaction(ctx, work)
        claimed += bool(done)
    return claimed


# -- mutations ----------------------------------------------------------------------------------


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
                checks.fail(f"At most {PHASES_MAX} phases.", "phases")
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
                raise Refusal.of(UserErrorCode.INVALID, f"At most {PHASES_MAX} phases.", "phase")
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
                await PhaseRow.filter(id=phase.id).update(**changes)
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
        description="Publish a document (a link) with a phase (officials and admins of its territory)."
    )
    async def add_phase_document(self, info: Info[Context, None], input: AddPhaseDocumentInput) -> PhasePayload:
        ctx = info.context

        async def work() -> PhaseRow:
            phase, consultation, _ = await check_phase(ctx, input.phase_id)
            checks = Checks()
            document = check_document(checks, input.document, "document")
            checks.done()
            await PhaseDocumentRow.create(
                phase_id=phase.id, title=document.title, url=document.url, kind=document.kind
            )
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

    @strawberry.mutation(
        description=(
            "Publish what a phase decided and why (officials and admins of its territory), linked to the "
            "ideas, questions and polls of the consultation it answers; publishing again replaces it. The "
            "authors of the ideas and questions answered, and the consultation's followers, are told."
        )
    )
    async def publish_outcome(self, info: Info[Context, None], input: PublishOutcomeInput) -> OutcomePayload:
        ctx = info.context

        async def work() -> OutcomeRow:
            phase, consultation, member = await check_phase(ctx, input.phase_id)
            checks = Checks()
            summary = checks.body(input.summary, "summary")
            if len(input.item_ids) > OUTCOME_ITEMS_MAX:
                checks.fail(f"At most {OUTCOME_ITEMS_MAX} items.", "itemIds")
            checks.done()
            items = await check_outcome_items(ctx, consultation, [str(i) for i in input.item_ids])
            now = clock.now()
            outcome = await OutcomeRow.get_or_none(phase_id=phase.id)
            if outcome is None:
                outcome = await OutcomeRow.create(phase_id=phase.id, published_by_id=member.id, summary=summary)
            else:
                await OutcomeRow.filter(id=outcome.id).update(summary=summary, updated_at=now, published_by_id=member.id)
                await OutcomeItemRow.filter(outcome_id=outcome.id).delete()
            fresh = list(dict.fromkeys(items))  # an id given twice is linked once
            if fresh:
                await OutcomeItemRow.bulk_create(
                    [OutcomeItemRow(outcome_id=outcome.id, subject_type=k, subject_id=pk) for k, pk in fresh]
                )
            await do_notify_answered(ctx, consultation, items, ctx.require_account().id)
            await do_touch(ctx, consultation, "outcome")
            return await OutcomeRow.get(id=outcome.id)

        return await mutate(ctx, work, outcome_payload)


async def check_outcome_items(
    ctx: Context, consultation: ConsultationRow, global_ids: list[str]
) -> list[tuple[str, int]]:
    """(kind, pk) of each item: an idea, question or poll the viewer sees, held by a phase of
    this consultation; NOT_FOUND (with its index) otherwise."""
    listed: list[Any] = await PhaseRow.filter(consultation_id=consultation.id).values_list("id", flat=True)
    phase_ids = {int(pk) for pk in listed}
    decoded = [decode_id(gid) for gid in global_ids]
    held: dict[tuple[str, int], int] = {}
    wanted = [d for d in decoded if d is not None and d[0] in ITEM_KINDS]
    if wanted:
        for row in await PhaseItemRow.filter(
            subject_id__in=[pk for _, pk in wanted], subject_type__in=list(ITEM_KINDS)
        ):
            held[(row.subject_type, row.subject_id)] = row.phase_id
    errors: list[UserError] = []
    found: list[tuple[str, int]] = []
    for index, item in enumerate(decoded):
        ok = (
            item is not None and item[0] in ITEM_KINDS and held.get(item) in phase_ids
            and await load_row(ctx, item[0], item[1]) is not None
        )
        if not ok or item is None:
            errors.append(UserError(field=["input", "itemIds", str(index)],
                                    message="No such idea, question or poll in this consultation.",
                                    code=UserErrorCode.NOT_FOUND))
        else:
            found.append(item)
    if errors:
        raise Refusal(errors)
    return found


async def do_notify_answered(
    ctx: Context, consultation: ConsultationRow, items: list[tuple[str, int]], actor: int
) -> None:
    """OUTCOME_PUBLISHED to the authors of the ideas and questions answered (a draft's outcome
    tells nobody yet), then to the consultation's followers."""
    if consultation.status == ConsultationStatus.DRAFT:
        return
    authors: set[int] = set()
    for kind, model in (("Idea", IdeaRow), ("Question", QuestionRow)):
        pks = [pk for k, pk in items if k == kind]
        if pks:
            rows: list[Any] = await model.filter(
                id__in=pks, hidden=False, author__account__deleted_at__isnull=True
            ).values_list("author__account_id", "id")
            for account_id, pk in rows:
                if int(account_id) != actor and int(account_id) not in authors:
                    authors.add(int(account_id))
                    await do_notify_many(
                        ctx, [int(account_id)], NotificationKind.OUTCOME_PUBLISHED, kind, int(pk),
                        f"“{consultation.title}” published an outcome that answers your contribution.",
                    )
    await do_notify_followers(
        ctx, NotificationKind.OUTCOME_PUBLISHED, "Consultation", consultation.id,
        f"“{consultation.title}” published an outcome.", told=authors | {actor},
    )
