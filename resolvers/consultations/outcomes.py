"""publishOutcome: what a phase decided and why, linked to the contributions it answers; their
authors and the consultation's followers are told."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from models import clock
from models.consultations import ITEM_KINDS, ConsultationStatus
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import Outcome as OutcomeRow
from models.consultations import OutcomeItem as OutcomeItemRow
from models.consultations import PhaseItem as PhaseItemRow
from models.ideas import Idea as IdeaRow
from models.notifications import NotificationKind
from models.questions import Question as QuestionRow
from reads.nodes import load_row
from resolvers.consultations.checks import (
    check_phase,
    do_touch,
    outcome_payload,
)
from resolvers.mutations import mutate
from resolvers.notifications import do_notify_followers, do_notify_many
from resolvers.validation import Checks
from schema.consultations.inputs import (
    OutcomePayload,
    PublishOutcomeInput,
)
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id

OUTCOME_ITEMS_MAX = 100


@strawberry.type
class OutcomesMutation:
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
                checks.fail("At most {max} items.", "itemIds", max=OUTCOME_ITEMS_MAX)
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
                        "“{title}” published an outcome that answers your contribution.", title=consultation.title,
                    )
    await do_notify_followers(
        ctx, NotificationKind.OUTCOME_PUBLISHED, "Consultation", consultation.id,
        "“{title}” published an outcome.", told=authors | {actor}, title=consultation.title,
    )
