"""Surveys: ordered questions, answers as secret as ballots (docs/adr/0021).

Who answered (SurveyParticipation: survey, member) and what was answered are kept apart, as
for polls (docs/adr/0009). The member's transaction writes the participation and a
SealedSurveyResponse (every answer, encrypted and padded to the survey's fixed size, under a
random id, with no timestamp). A later transaction (a fold) opens a batch of at least K of
them, adds their sums to `Survey.tally` and releases them as SurveyResponse rows (random ids,
no member, no time): text answers and exports read those. A draft (SurveyDraft) is its
author's, sealed too, and deleted by the submission's transaction.

The owner is the territory (and optionally one of its projects); a consultation's phase
may hold it (`phase`, nullable): then it is answered only while that phase is current, and
it is seen only by whom sees the consultation (a draft's: its staff).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Role
from models.polls import ResultsVisibility

if TYPE_CHECKING:
    from models.accounts import Member
    from models.consultations import ConsultationPhase
    from models.projects import Project
    from models.territories import Territory


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "SINGLE_CHOICE"
    MULTIPLE_CHOICE = "MULTIPLE_CHOICE"
    RANKING = "RANKING"
    SCALE = "SCALE"
    SHORT_TEXT = "SHORT_TEXT"
    LONG_TEXT = "LONG_TEXT"


# Who sees a survey while it is a DRAFT (and reads its text answers and export).
SURVEY_STAFF = frozenset({Role.OFFICIAL, Role.MODERATOR, Role.ADMIN})

CHOICE_KINDS = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE})
TEXT_KINDS = frozenset({QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT})


class Survey(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="surveys"
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="surveys", null=True
    )
    phase: fields.ForeignKeyNullableRelation[ConsultationPhase] = fields.ForeignKeyField(
        "models.ConsultationPhase", related_name="surveys", on_delete=fields.SET_NULL, null=True
    )
    created_by: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="surveys_created"
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    verified_only = fields.BooleanField(default=False)
    results_visibility = fields.CharEnumField(ResultsVisibility, default=ResultsVisibility.LIVE, max_length=16)
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    # NULL while a DRAFT (staff only, editable); set by openSurvey, after which the questions are fixed.
    published_at = fields.DatetimeField(null=True)
    # Set by closeSurvey or the closer; a survey past closes_at is closed whether or not anyone acted.
    closed_at = fields.DatetimeField(null=True)
    # Submissions made (participations): moves with every submission, says nothing of any answer.
    total_submissions = fields.IntField(default=0)
    # Submissions folded into `tally` and released as SurveyResponse rows.
    counted_submissions = fields.IntField(default=0)
    # Aggregates per question position, moved by folds only (resolvers/survey_box.py).
    tally: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set by updateSurvey, openSurvey and closeSurvey (Survey.updatedAt); null until then.
    updated_at = fields.DatetimeField(null=True)

    territory_id: int
    project_id: int | None
    phase_id: int | None
    created_by_id: int

    class Meta:
        table = "survey"


class SurveyQuestion(Model):
    # One question of a survey, at its position. Options are a JSON list of labels, referred to
    # by their position. shown_if_*: shown only when the answer to the question at that
    # (earlier) position includes that option. (No docstrings on models: Tortoise turns them
    # into table comments, and its SQLite migration splits statements on semicolons.)

    id = fields.IntField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="questions", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    kind = fields.CharEnumField(QuestionKind, max_length=16)
    prompt = fields.CharField(max_length=500)
    help = fields.TextField(default="")
    required = fields.BooleanField(default=False)
    options: Any = fields.JSONField(default=list)
    min_choices = fields.IntField(null=True)
    max_choices = fields.IntField(null=True)
    scale_min = fields.IntField(null=True)
    scale_max = fields.IntField(null=True)
    min_label = fields.CharField(max_length=100, null=True)
    max_label = fields.CharField(max_length=100, null=True)
    shown_if_position = fields.IntField(null=True)
    shown_if_option = fields.IntField(null=True)

    survey_id: int

    class Meta:
        table = "survey_question"
        unique_together = (("survey", "position"),)


class SurveyParticipation(Model):
    # That a member submitted a survey, never what they answered (no time either).

    id = fields.IntField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="participations", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="survey_participations"
    )

    survey_id: int
    member_id: int

    class Meta:
        table = "survey_participation"
        unique_together = (("survey", "member"),)


class SealedSurveyResponse(Model):
    # A submission not yet counted: every answer sealed (AES-GCM, access/sealing.py) and padded
    # to the survey's fixed size, under a random id, with no member and no timestamp. Deleted
    # by the fold that counts it.

    id = fields.UUIDField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="sealed_responses", on_delete=fields.CASCADE
    )
    sealed = fields.BinaryField()

    survey_id: int

    class Meta:
        table = "survey_sealed_response"


class SurveyResponse(Model):
    # A counted submission, released by a fold among at least K others: its answers by
    # question position, under a random id, with no member and no timestamp.

    id = fields.UUIDField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="responses", on_delete=fields.CASCADE
    )
    answers: Any = fields.JSONField()

    survey_id: int

    class Meta:
        table = "survey_response"


class SurveyDraft(Model):
    # A member's answers saved before submitting: theirs alone, sealed to (survey, member),
    # deleted by the submission's transaction.

    id = fields.IntField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="drafts", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="survey_drafts", on_delete=fields.CASCADE
    )
    sealed = fields.BinaryField()

    survey_id: int
    member_id: int

    class Meta:
        table = "survey_draft"
        unique_together = (("survey", "member"),)
