"""Consultations: a territory's co-construction in dated phases, and what each phase decided.

A consultation (the SCoT revision) runs through phases with dates that do not overlap; the
current phase is the one whose window holds the clock, so nobody presses a button. A phase
holds items: documents (models.projects.Document rows whose owner is the phase: files with
versions, or links), surveys (models.surveys.Survey.phase), and content of other domains
through PhaseItem rows (an idea proposed in the phase, a question asked in it, a poll staff
attach to it). An Outcome closes a phase: what was decided and why, linked to the items it
answers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Member
    from models.projects import Project
    from models.territories import Territory


class ConsultationStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    CLOSED = "CLOSED"


class PhaseKind(StrEnum):
    INFORMATION = "INFORMATION"
    DEBATE = "DEBATE"
    SURVEY = "SURVEY"
    VOTE = "VOTE"
    RESTITUTION = "RESTITUTION"


# What a phase holds through PhaseItem: the subject_type of its rows.
ITEM_KINDS = ("Idea", "Question", "Poll")


class Consultation(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="consultations"
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="consultations", null=True
    )
    created_by: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="consultations_created"
    )
    title = fields.CharField(max_length=200)
    summary = fields.TextField()
    status = fields.CharEnumField(ConsultationStatus, default=ConsultationStatus.DRAFT, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)

    territory_id: int
    project_id: int | None
    created_by_id: int

    class Meta:
        table = "consultation"
        indexes = (("territory_id", "id"),)


class ConsultationPhase(Model):
    id = fields.IntField(primary_key=True)
    consultation: fields.ForeignKeyRelation[Consultation] = fields.ForeignKeyField(
        "models.Consultation", related_name="phases", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(PhaseKind, max_length=16)
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    accepts_ideas = fields.BooleanField(default=False)
    accepts_questions = fields.BooleanField(default=False)
    # Set once the phase's start went to the feed and to followers (claimed by one process).
    start_announced = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set by updateConsultationPhase (ConsultationPhase.updatedAt); null until then.
    updated_at = fields.DatetimeField(null=True)

    consultation_id: int

    class Meta:
        table = "consultation_phase"
        indexes = (("consultation_id", "starts_at"), ("start_announced", "starts_at"))


class PhaseItem(Model):
    # Content of another domain a phase holds (an idea proposed in it, a question asked in
    # it, a poll attached to it): each item belongs to one phase at most.
    id = fields.IntField(primary_key=True)
    phase: fields.ForeignKeyRelation[ConsultationPhase] = fields.ForeignKeyField(
        "models.ConsultationPhase", related_name="items", on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    phase_id: int

    class Meta:
        table = "phase_item"
        unique_together = (("subject_type", "subject_id"),)
        indexes = (("phase_id", "subject_type"),)


class Outcome(Model):
    # What a phase decided and why; one per phase, republishing replaces it.
    id = fields.IntField(primary_key=True)
    phase: fields.OneToOneRelation[ConsultationPhase] = fields.OneToOneField(
        "models.ConsultationPhase", related_name="outcome", on_delete=fields.CASCADE
    )
    published_by: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="outcomes_published"
    )
    summary = fields.TextField()
    published_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now_add=True)

    phase_id: int
    published_by_id: int

    class Meta:
        table = "outcome"


class OutcomeItem(Model):
    # An item an outcome answers (an idea, a question, a poll of its consultation).
    id = fields.IntField(primary_key=True)
    outcome: fields.ForeignKeyRelation[Outcome] = fields.ForeignKeyField(
        "models.Outcome", related_name="items", on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.IntField()

    outcome_id: int

    class Meta:
        table = "outcome_item"
        unique_together = (("outcome", "subject_type", "subject_id"),)
        indexes = (("subject_type", "subject_id"),)
