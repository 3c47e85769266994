"""consultationUpdates: a consultation's state, live, as staff change it and as the clock
moves its current phase.

One hub per watched consultation (subscriptions/hubs.py): it reads the consultation and its
phases once per change, for all its watchers, and wakes by itself at the next phase boundary
(the way a poll hub wakes at closesAt), so a phase starts live with nobody acting. Whether a
watcher may see the consultation (a draft: staff only) is checked per watcher and per state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.errors import not_found
from events.envelopes import Event, consultation_channel
from models.clock import as_utc, now
from models.consultations import Consultation as ConsultationRow
from models.consultations import ConsultationPhase as PhaseRow
from reads.nodes import load_row, sees
from schema.consultations.inputs import ConsultationChange, ConsultationEvent
from schema.consultations.state import PhaseState, phase_state
from schema.consultations.types import Consultation, ConsultationPhase
from schema.relay import decode_id_of
from subscriptions.hubs import CLOCK_SLACK, RETRY_AFTER, Hubs, LatestHub, hubs_for

log = logging.getLogger("parvis.live")

# Wake a little after a boundary, so the state computed then is already the new one.
# What staff writes announce, as the stream names them.
CHANGES = {"outcome": ConsultationChange.OUTCOME_PUBLISHED, "phase": ConsultationChange.PHASE_CHANGED}


@dataclass(frozen=True)
class ConsultationSnapshot:
    """A consultation's state at one change, the same object for every watcher."""

    row: ConsultationRow
    current: PhaseRow | None
    change: ConsultationChange
    boundary: float | None  # seconds until the next phase boundary, when read

    @property
    def key(self) -> tuple[Any, ...]:
        """What watchers can tell apart."""
        return (
            self.current.id if self.current else None, self.row.status, as_utc(self.row.updated_at),
        )


class ConsultationHub(LatestHub[ConsultationSnapshot]):
    def __init__(self, hubs: Hubs, consultation_id: int) -> None:
        super().__init__(hubs, ("consultation", consultation_id))
        self.consultation_id = consultation_id

    async def _run(self) -> None:
        change = ConsultationChange.SNAPSHOT
        try:
            # Listen before the first read: a write committed in between is not missed.
            async with self.hubs.broker.listen(consultation_channel(self.consultation_id)) as queue:
                while True:
                    snapshot = await self._compute(change)
                    if snapshot is None:
                        break  # the consultation is gone
                    if self.latest is None or snapshot.key != self.latest.key:
                        self._publish(snapshot)
                    change = ConsultationChange.PHASE_CHANGED
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(snapshot.boundary):
                            event: Event = await queue.get()
                            change = CHANGES.get(event.type, ConsultationChange.UPDATED)
                    while not queue.empty():
                        queue.get_nowait()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("consultation hub %s failed", self.consultation_id)
        finally:
            if not self.finished:
                self._finish()

    async def _compute(self, change: ConsultationChange) -> ConsultationSnapshot | None:
        while True:
            try:
                row = await ConsultationRow.filter(id=self.consultation_id).first()
                if row is None:
                    return None
                phases = await PhaseRow.filter(consultation_id=row.id).order_by("starts_at")
                at = now()
                current = next((p for p in phases if phase_state(p, at) is PhaseState.CURRENT), None)
                ahead = [
                    instant for p in phases for instant in (as_utc(p.starts_at), as_utc(p.ends_at)) if instant > at
                ]
                boundary = (min(ahead) - at).total_seconds() + CLOCK_SLACK if ahead else None
                return ConsultationSnapshot(row=row, current=current, change=change, boundary=boundary)
            except Exception as exc:  # noqa: BLE001 - the database hiccuped: try again
                log.warning("consultation %s not read (%s); retrying", self.consultation_id, exc)
                await asyncio.sleep(RETRY_AFTER)


def consultation_hub(hubs: Hubs, consultation_id: int) -> ConsultationHub:
    return hubs.get(("consultation", consultation_id), lambda hubs: ConsultationHub(hubs, consultation_id))


@strawberry.type
class ConsultationsSubscription:
    @strawberry.subscription(
        description=(
            "A consultation's state at once (SNAPSHOT), then whenever it changes: its current phase moved "
            "by the clock (PHASE_CHANGED), staff changed it (UPDATED) or published an outcome "
            "(OUTCOME_PUBLISHED). Drafts only for the territory's officials, moderators and admins."
        )
    )
    async def consultation_updates(
        self, info: Info[Context, None], consultation_id: strawberry.ID
    ) -> AsyncGenerator[ConsultationEvent, None]:
        ctx = info.context
        ctx.fresh_loaders()
        pk = decode_id_of(consultation_id, "Consultation")
        row = await load_row(ctx, "Consultation", pk) if pk is not None else None
        if row is None:
            raise not_found("No such consultation.")
        first = True
        async with consultation_hub(hubs_for(ctx.broker), row.id).join() as slot:
            while (snapshot := await slot.get()) is not None:
                ctx.fresh_loaders()
                if not await sees(ctx, "Consultation", snapshot.row):
                    continue
                yield ConsultationEvent(
                    change=ConsultationChange.SNAPSHOT if first else snapshot.change,
                    consultation=Consultation.from_model(snapshot.row),
                    current_phase=ConsultationPhase.from_model(snapshot.current) if snapshot.current else None,
                )
                first = False
