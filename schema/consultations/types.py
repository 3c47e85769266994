"""Consultations in dated phases, what each phase holds, and the outcome that closes it.

A phase's state follows the clock (UPCOMING, CURRENT, PAST), computed when read; an answer
kept for reuse expires at the next phase boundary it compared with (sharing/horizon.py).
A consultation page reads its phases and every phase's items with one statement per kind,
whatever their number (the loaders in reads/loaders.py). Reasoning: docs/adr/0019.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from access.context import Context
from access.i18n import Phrase
from models import consultations as mc
from models import ideas as mi
from models import polls as mp
from models import questions as mq
from models.clock import as_utc, now
from reads.documents import sees_drafts
from reads.nodes import load_row, sees
from schema.activity import Followable
from schema.consultations.state import PhaseState, phase_state
from schema.documents import Document
from schema.errors import Refusal, UserErrorCode
from schema.ideas import Idea
from schema.permissions import Permission, check_member, permission
from schema.placement import AboutProject, InTerritory
from schema.polls import Poll
from schema.questions import Question
from schema.relay import Node, decode_id_of, encode_id, register_node
from schema.surveys.survey import Survey, may_see_draft


@strawberry.enum(description="Where a consultation stands.")
class ConsultationStatus(Enum):
    DRAFT = strawberry.enum_value(
        "DRAFT", description="Being prepared: only the territory's officials, moderators and admins see it."
    )
    PUBLISHED = strawberry.enum_value("PUBLISHED", description="Public: its phases run by their dates.")
    CLOSED = strawberry.enum_value(
        "CLOSED", description="Over: still public, its phases take no contribution any more."
    )


@strawberry.enum(description="What happens in a consultation phase.")
class PhaseKind(Enum):
    INFORMATION = strawberry.enum_value(
        "INFORMATION", description="Documents are presented; questions to the officials are welcome."
    )
    DEBATE = strawberry.enum_value("DEBATE", description="A call for ideas and an exchange of views.")
    SURVEY = strawberry.enum_value("SURVEY", description="Residents answer a survey.")
    VOTE = strawberry.enum_value("VOTE", description="Residents vote in the phase's polls.")
    RESTITUTION = strawberry.enum_value(
        "RESTITUTION", description="The territory says what it decided and why."
    )


def status_of(row: mc.Consultation) -> ConsultationStatus:
    return ConsultationStatus(row.status.value if isinstance(row.status, mc.ConsultationStatus) else row.status)


# A phase's or an outcome's lists show at most this many items (newest first).
ITEMS_MAX = 100
FirstItems = Annotated[
    int | None, strawberry.argument(description="How many items, newest first: 0 to 100; 100 when omitted.")
]


async def visible_items(ctx: Context, model: Any, pks: list[int], first: FirstItems = None) -> list[Any]:
    """The newest `first` (at most ITEMS_MAX) rows `pks` of `model` the viewer may see, newest
    first: one statement for all the lists of a page (their loads are batched), another only
    when hidden rows left a list short."""
    take = ITEMS_MAX if first is None else max(0, min(first, ITEMS_MAX))
    ordered = sorted(set(pks), reverse=True)
    shown: list[Any] = []
    start = 0
    while len(shown) < take and start < len(ordered):
        chunk = ordered[start:start + take - len(shown)]
        start += len(chunk)
        rows = await ctx.loaders.by_id(model).load_many(chunk)
        shown += [row for row in rows if row is not None and await ctx.can_see(row)]
    return shown


def item_pks(items: list[Any], kind: str) -> list[int]:
    return [int(item.subject_id) for item in items if item.subject_type == kind]


@strawberry.type(description="What a phase decided and why, linked to the contributions it answers.")
class Outcome(Node):
    id: strawberry.ID = strawberry.field(description="The outcome's global id.")
    summary: str = strawberry.field(description="What was decided and why.")
    published_at: dt.datetime = strawberry.field(description="When the outcome was first published.")
    updated_at: dt.datetime = strawberry.field(description="When the outcome was last published again.")
    pk: strawberry.Private[int]
    phase_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mc.Outcome) -> Outcome:
        return cls(
            id=strawberry.ID(encode_id("Outcome", row.id)),
            summary=row.summary,
            published_at=row.published_at,
            updated_at=row.updated_at,
            pk=row.id,
            phase_pk=row.phase_id,
        )

    @strawberry.field(description="The phase the outcome closes.")
    async def phase(self, info: Info[Context, None]) -> ConsultationPhase:
        return ConsultationPhase.from_model(await info.context.loaders.row_of(mc.ConsultationPhase, self.phase_pk))

    @strawberry.field(description="The ideas the outcome answers (those the viewer may see), newest first.")
    async def ideas(self, info: Info[Context, None]) -> list[Idea]:
        items = await info.context.loaders.items_by_outcome.load(self.pk)
        return [Idea.from_model(r) for r in await visible_items(info.context, mi.Idea, item_pks(items, "Idea"))]

    @strawberry.field(description="The questions the outcome answers (those the viewer may see), newest first.")
    async def questions(self, info: Info[Context, None]) -> list[Question]:
        items = await info.context.loaders.items_by_outcome.load(self.pk)
        rows = await visible_items(info.context, mq.Question, item_pks(items, "Question"))
        return [Question.from_model(r) for r in rows]

    @strawberry.field(description="The polls the outcome answers (those the viewer may see), newest first.")
    async def polls(self, info: Info[Context, None]) -> list[Poll]:
        items = await info.context.loaders.items_by_outcome.load(self.pk)
        return [Poll.from_model(r) for r in await visible_items(info.context, mp.Poll, item_pks(items, "Poll"))]


@strawberry.type(
    description=(
        "A dated phase of a consultation: what happens in it (kind), its documents, the ideas, "
        "questions and polls it holds, and the outcome that closes it. Its state follows the clock."
    )
)
class ConsultationPhase(Node):
    id: strawberry.ID = strawberry.field(description="The phase's global id.")
    kind: PhaseKind = strawberry.field(description="What happens in the phase.")
    title: str = strawberry.field(description="The phase's name.")
    description: str = strawberry.field(description="What the phase is for and how to take part.")
    starts_at: dt.datetime = strawberry.field(description="When the phase starts.")
    ends_at: dt.datetime = strawberry.field(description="When the phase ends (after startsAt).")
    accepts_ideas: bool = strawberry.field(
        description="Whether members may propose ideas in the phase while it is current (proposeIdea's phaseId)."
    )
    accepts_questions: bool = strawberry.field(
        description="Whether members may ask the officials questions in the phase while it is current "
        "(askQuestion's phaseId)."
    )
    updated_at: dt.datetime = strawberry.field(
        description="When its title, description, dates or flags last changed; its creation until then."
    )
    pk: strawberry.Private[int]
    consultation_pk: strawberry.Private[int]
    row: strawberry.Private[mc.ConsultationPhase]

    @classmethod
    def from_model(cls, row: mc.ConsultationPhase) -> ConsultationPhase:
        return cls(
            id=strawberry.ID(encode_id("ConsultationPhase", row.id)),
            kind=PhaseKind(str(getattr(row.kind, "value", row.kind))),
            title=row.title,
            description=row.description,
            starts_at=as_utc(row.starts_at),
            ends_at=as_utc(row.ends_at),
            accepts_ideas=row.accepts_ideas,
            accepts_questions=row.accepts_questions,
            updated_at=as_utc(row.updated_at or row.created_at),
            pk=row.id,
            consultation_pk=row.consultation_id,
            row=row,
        )

    @strawberry.field(description="UPCOMING, CURRENT or PAST, by the clock.")
    def state(self) -> PhaseState:
        return phase_state(self.row)

    @strawberry.field(description="Whether the phase is the current one (state CURRENT).")
    def is_current(self) -> bool:
        return phase_state(self.row) is PhaseState.CURRENT

    @strawberry.field(description="The phase's rank in its consultation, from 1, by start date.")
    async def position(self, info: Info[Context, None]) -> int:
        phases = await info.context.loaders.phases_by_consultation.load(self.consultation_pk)
        return next((i for i, p in enumerate(phases, 1) if p.id == self.pk), 0)

    @strawberry.field(description="The consultation the phase belongs to.")
    async def consultation(self, info: Info[Context, None]) -> Consultation:
        return Consultation.from_model(await info.context.loaders.row_of(mc.Consultation, self.consultation_pk))

    @strawberry.field(
        description="The documents published with the phase (files with their versions, or links), in the order "
        "they were added; drafts for the territory's officials, admins and moderators only."
    )
    async def documents(self, info: Info[Context, None]) -> list[Document]:
        rows = await info.context.loaders.documents_by_phase.load(self.pk)
        if any(row.draft for row in rows):
            consultation = await info.context.loaders.row_of(mc.Consultation, self.consultation_pk)
            if not await sees_drafts(info.context.loaders, consultation.territory_id):
                rows = [row for row in rows if not row.draft]
        return [Document.from_model(row) for row in rows]

    @strawberry.field(
        description="The surveys the phase holds, newest first (drafts for the territory's officials, moderators "
        "and admins only). They take answers only while the phase is current (else PHASE_CLOSED)."
    )
    async def surveys(self, info: Info[Context, None]) -> list[Survey]:
        rows = await info.context.loaders.surveys_by_phase.load(self.pk)
        return [Survey.from_model(row) for row in rows if await may_see_draft(info.context, row)]

    async def _held(self, info: Info[Context, None], model: Any, kind: str, first: int | None) -> list[Any]:
        """The rows of `kind` the phase holds that the viewer may see, newest first."""
        items = await info.context.loaders.items_by_phase.load(self.pk)
        return await visible_items(info.context, model, item_pks(items, kind), first)

    @strawberry.field(
        description="The ideas proposed in the phase (those the viewer may see), newest first: `first` of them, "
        "at most 100 (the default)."
    )
    async def ideas(self, info: Info[Context, None], first: FirstItems = None) -> list[Idea]:
        return [Idea.from_model(r) for r in await self._held(info, mi.Idea, "Idea", first)]

    @strawberry.field(
        description="The questions asked in the phase (those the viewer may see), newest first: `first` of them, "
        "at most 100 (the default)."
    )
    async def questions(self, info: Info[Context, None], first: FirstItems = None) -> list[Question]:
        return [Question.from_model(r) for r in await self._held(info, mq.Question, "Question", first)]

    @strawberry.field(
        description="The polls held in the phase (those the viewer may see), newest first: `first` of them, "
        "at most 100 (the default)."
    )
    async def polls(self, info: Info[Context, None], first: FirstItems = None) -> list[Poll]:
        return [Poll.from_model(r) for r in await self._held(info, mp.Poll, "Poll", first)]

    @strawberry.field(
        description="Whether proposeIdea with this phaseId would take the viewer's idea now, else the code it "
        "would answer (UNAUTHENTICATED, NOT_A_MEMBER, EMAIL_NOT_VERIFIED, PHASE_DOES_NOT_ACCEPT, PHASE_CLOSED)."
    )
    async def viewer_can_propose_idea(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_contribute(info.context, self.row, "ideas"))

    @strawberry.field(
        description="Whether askQuestion with this phaseId would take the viewer's question now, else the code "
        "it would answer (UNAUTHENTICATED, NOT_A_MEMBER, EMAIL_NOT_VERIFIED, PHASE_DOES_NOT_ACCEPT, PHASE_CLOSED)."
    )
    async def viewer_can_ask_question(self, info: Info[Context, None]) -> Permission:
        return await permission(check_may_contribute(info.context, self.row, "questions"))

    @strawberry.field(description="What the phase decided and why; null until it is published.")
    async def outcome(self, info: Info[Context, None]) -> Outcome | None:
        row = await info.context.loaders.outcome_by_phase.load(self.pk)
        return Outcome.from_model(row) if row is not None else None


@strawberry.type(
    description=(
        "A consultation of the territory (the revision of a master plan, say): a co-construction "
        "in dated phases, each with its documents, contributions and outcome. Drafts are seen "
        "only by the territory's officials, moderators and admins."
    )
)
class Consultation(InTerritory, AboutProject, Followable, Node):
    id: strawberry.ID = strawberry.field(description="The consultation's global id.")
    title: str = strawberry.field(description="The consultation's title.")
    summary: str = strawberry.field(description="What is consulted on, and why.")
    status: ConsultationStatus = strawberry.field(description="DRAFT, PUBLISHED or CLOSED.")
    created_at: dt.datetime = strawberry.field(description="When the consultation was created.")
    updated_at: dt.datetime = strawberry.field(
        description="When the consultation or one of its phases was last changed."
    )
    published_at: dt.datetime | None = strawberry.field(description="When it was published; null for a draft.")
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mc.Consultation) -> Consultation:
        return cls(
            id=strawberry.ID(encode_id("Consultation", row.id)),
            title=row.title,
            summary=row.summary,
            status=status_of(row),
            created_at=row.created_at,
            updated_at=as_utc(row.updated_at),
            published_at=row.published_at,
            pk=row.id,
            territory_pk=row.territory_id,
            project_pk=row.project_id,
        )

    @strawberry.field(description="The consultation's page in the territory's web app.")
    def url(self, info: Info[Context, None]) -> str:
        base = str(getattr(info.context.settings, "public_url", "") or "").rstrip("/")
        return f"{base}/consultations/{self.id}"

    @strawberry.field(description="The phases in the order they run (by start date); they never overlap.")
    async def phases(self, info: Info[Context, None]) -> list[ConsultationPhase]:
        rows = await info.context.loaders.phases_by_consultation.load(self.pk)
        return [ConsultationPhase.from_model(row) for row in rows]

    @strawberry.field(description="The phase running now; null between phases, before the first and after the last.")
    async def current_phase(self, info: Info[Context, None]) -> ConsultationPhase | None:
        at = now()
        for row in await info.context.loaders.phases_by_consultation.load(self.pk):
            if phase_state(row, at) is PhaseState.CURRENT:
                return ConsultationPhase.from_model(row)
        return None


async def outcomes_of(ctx: Context, kind: str, pk: int) -> list[Outcome]:
    """The outcomes answering one contribution, those of consultations the viewer may see."""
    rows = await ctx.loaders.outcomes_of_subject.load((kind, pk))
    return [Outcome.from_model(row) for row in rows if await sees(ctx, "Outcome", row)]


# -- contributions in a phase ------------------------------------------------------------------


# What a phase takes, as messages name it (put into the message in its language).
TAKES = {"ideas": Phrase("ideas"), "questions": Phrase("questions")}


def check_phase_open(
    phase: mc.ConsultationPhase, consultation: mc.Consultation, what: str, at: dt.datetime | None = None
) -> None:
    """PHASE_DOES_NOT_ACCEPT when the phase never takes `what` ("ideas" or "questions"),
    PHASE_CLOSED when it is not current or its consultation is not published (a draft, or
    closed)."""
    takes = phase.accepts_ideas if what == "ideas" else phase.accepts_questions
    if not takes:
        raise Refusal.of(UserErrorCode.PHASE_DOES_NOT_ACCEPT, "This phase takes no {what}.", "phaseId", what=TAKES[what])
    if consultation.status != mc.ConsultationStatus.PUBLISHED or phase_state(phase, at) is not PhaseState.CURRENT:
        raise Refusal.of(UserErrorCode.PHASE_CLOSED, "This phase takes no {what} now: it is not the current one.",
                         "phaseId", what=TAKES[what])


async def check_phase_takes(
    ctx: Context, global_id: str, territory_id: int, what: str, at: dt.datetime | None = None
) -> mc.ConsultationPhase:
    """The phase `phaseId` names if it takes `what` now (check_phase_open); NOT_FOUND when
    the viewer may not see it or it is of another territory."""
    pk = decode_id_of(global_id, "ConsultationPhase")
    phase = await load_row(ctx, "ConsultationPhase", pk) if pk is not None else None
    consultation = await ctx.loaders.by_id(mc.Consultation).load(phase.consultation_id) if phase else None
    if phase is None or consultation is None or consultation.territory_id != territory_id:
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such phase in this territory.", "phaseId")
    check_phase_open(phase, consultation, what, at)
    return phase  # type: ignore[no-any-return]


async def check_may_contribute(ctx: Context, phase: mc.ConsultationPhase, what: str) -> None:
    """proposeIdea's (what="ideas") or askQuestion's ("questions") checks of the viewer and
    the phase, for a phase the viewer sees: a member of its territory, then the phase open."""
    consultation = await ctx.loaders.row_of(mc.Consultation, phase.consultation_id)
    action = "propose an idea" if what == "ideas" else "ask a question"
    await check_member(ctx, consultation.territory_id, action, "territoryId")
    check_phase_open(phase, consultation, what)


register_node("Consultation", Consultation.from_model)
register_node("ConsultationPhase", ConsultationPhase.from_model)
register_node("Outcome", Outcome.from_model)
