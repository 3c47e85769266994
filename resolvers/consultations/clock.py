"""The clock's side of consultations: phases that start are announced once (feed, followers,
live watchers), with nobody acting; the poll closer's round runs it (app/jobs.py)."""

from __future__ import annotations

import datetime as dt

from access.context import Context
from models import clock
from models.clock import as_utc
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from models.consultations import ConsultationStatus
from models.notifications import NotificationKind
from resolvers.consultations.checks import (
    notify_consultation,
)
from resolvers.feed import do_add_to_feed
from resolvers.mutations import run_in_transaction
from resolvers.notifications import do_notify_followers


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
                "“{title}”: the phase “{phase}” has started.", told=set(),
                title=consultation.title, phase=phase.title,
            )
            notify_consultation(ctx, consultation.id, "phase")
            return True

        done, _ = await run_in_transaction(ctx, work)
        claimed += bool(done)
    return claimed
