"""Consultations' inputs, payloads and live events (the types are in schema/consultations/types.py)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from schema.consultations.types import Consultation, ConsultationPhase, Outcome, PhaseKind
from schema.errors import UserError
from schema.projects import DocumentInput


@strawberry.input(description="A phase of a consultation.")
class PhaseInput:
    kind: PhaseKind = strawberry.field(description="What happens in the phase.")
    title: str = strawberry.field(description="The phase's name (1 to 200 characters).")
    description: str = strawberry.field(description="What the phase is for (1 to 20,000 characters).")
    starts_at: dt.datetime = strawberry.field(description="When the phase starts.")
    ends_at: dt.datetime = strawberry.field(
        description="When it ends: after startsAt, and no phase of the consultation may overlap it."
    )
    accepts_ideas: bool | None = strawberry.field(
        default=None, description="Whether it takes ideas while current; by default only DEBATE phases do."
    )
    accepts_questions: bool | None = strawberry.field(
        default=None,
        description="Whether it takes questions to the officials while current; by default INFORMATION and "
        "DEBATE phases do.",
    )


@strawberry.input(description="A new consultation of a territory, as a draft.")
class CreateConsultationInput:
    territory_id: strawberry.ID = strawberry.field(description="The territory consulted.")
    title: str = strawberry.field(description="The consultation's title (1 to 200 characters).")
    summary: str = strawberry.field(description="What is consulted on (1 to 20,000 characters).")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="A project of the same territory the consultation is about."
    )
    phases: list[PhaseInput] | None = strawberry.field(
        default=None, description="Its phases (at most 20), which must not overlap."
    )


@strawberry.input(description="Changes to a consultation; omitted fields stay as they are.")
class UpdateConsultationInput:
    consultation_id: strawberry.ID = strawberry.field(description="The consultation's global id.")
    title: str | None = strawberry.field(default=None, description="The new title (1 to 200 characters).")
    summary: str | None = strawberry.field(default=None, description="The new summary (1 to 20,000 characters).")
    closed: bool | None = strawberry.field(
        default=None, description="true closes a published consultation (no phase takes contributions any more)."
    )


@strawberry.input(description="Designates one consultation.")
class ConsultationInput:
    consultation_id: strawberry.ID = strawberry.field(description="The consultation's global id.")


@strawberry.input(description="A phase to add to a consultation.")
class AddConsultationPhaseInput:
    consultation_id: strawberry.ID = strawberry.field(description="The consultation's global id.")
    phase: PhaseInput = strawberry.field(description="The new phase.")


@strawberry.input(description="Changes to a phase; omitted fields stay as they are.")
class UpdateConsultationPhaseInput:
    phase_id: strawberry.ID = strawberry.field(description="The phase's global id.")
    kind: PhaseKind | None = strawberry.field(default=None, description="What happens in the phase.")
    title: str | None = strawberry.field(default=None, description="The new name (1 to 200 characters).")
    description: str | None = strawberry.field(default=None, description="The new description.")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="The new start.")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="The new end (after startsAt).")
    accepts_ideas: bool | None = strawberry.field(default=None, description="Whether it takes ideas.")
    accepts_questions: bool | None = strawberry.field(default=None, description="Whether it takes questions.")


@strawberry.input(description="Designates one consultation phase.")
class PhaseIdInput:
    phase_id: strawberry.ID = strawberry.field(description="The phase's global id.")


@strawberry.input(description="A link document to publish with a phase.")
class AddPhaseDocumentInput:
    phase_id: strawberry.ID = strawberry.field(description="The phase's global id.")
    document: DocumentInput = strawberry.field(description="The document.")


@strawberry.input(description="A poll of the same territory for a phase to hold.")
class AttachPollToPhaseInput:
    phase_id: strawberry.ID = strawberry.field(description="The phase's global id.")
    poll_id: strawberry.ID = strawberry.field(description="The poll's global id (in no other phase).")


@strawberry.input(description="What a phase decided and why, and the contributions it answers.")
class PublishOutcomeInput:
    phase_id: strawberry.ID = strawberry.field(description="The phase's global id.")
    summary: str = strawberry.field(description="What was decided and why (1 to 20,000 characters).")
    item_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Ideas, questions and polls of the same consultation's phases that the outcome answers "
        "(at most 100); publishing again replaces the list.",
    )


@strawberry.type(description="The result of a mutation on a consultation.")
class ConsultationPayload:
    consultation: Consultation | None = strawberry.field(
        description="The consultation as it now stands; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


@strawberry.type(description="The result of a mutation on a consultation phase.")
class PhasePayload:
    phase: ConsultationPhase | None = strawberry.field(description="The phase as it now stands; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


@strawberry.type(description="The result of publishing an outcome.")
class OutcomePayload:
    outcome: Outcome | None = strawberry.field(description="The outcome as published; null on failure.")
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


@strawberry.enum(description="What changed in a consultation, as its live stream tells.")
class ConsultationChange(Enum):
    SNAPSHOT = strawberry.enum_value("SNAPSHOT", description="The state when the stream started.")
    PHASE_CHANGED = strawberry.enum_value(
        "PHASE_CHANGED", description="The clock moved the current phase (one started or ended)."
    )
    UPDATED = strawberry.enum_value(
        "UPDATED", description="Staff changed the consultation, its phases, documents or items."
    )
    OUTCOME_PUBLISHED = strawberry.enum_value("OUTCOME_PUBLISHED", description="A phase's outcome was published.")


@strawberry.type(description="A consultation's state, streamed live when it changes.")
class ConsultationEvent:
    change: ConsultationChange = strawberry.field(description="What changed.")
    consultation: Consultation = strawberry.field(description="The consultation as it now stands.")
    current_phase: ConsultationPhase | None = strawberry.field(
        description="The phase current when the event was sent; null between phases."
    )
