"""Polls with a secret ballot.

Who voted (PollParticipation: poll, member) and what was voted are kept apart. The voter's
transaction writes the participation and a SealedBallot (the choice, encrypted, under a
random id, with no timestamp); the counters (PollOption.votes, Poll.counted_votes) move only
when a later transaction folds a batch of at least K sealed ballots, mixed across voters, and
deletes them (docs/adr/0009). One ballot per member is the unique constraint on
PollParticipation; counters only ever move by atomic increments.
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


class ResultsVisibility(StrEnum):
    LIVE = "LIVE"
    AFTER_CLOSE = "AFTER_CLOSE"


class Poll(Model):
    id = fields.IntField(primary_key=True)
    territory: fields.ForeignKeyRelation[Territory] = fields.ForeignKeyField(
        "models.Territory", related_name="polls"
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="polls", null=True
    )
    created_by: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="polls_created"
    )
    question = fields.CharField(max_length=200)
    multiple_choice = fields.BooleanField(default=False)
    verified_only = fields.BooleanField(default=False)
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    # Set by closePoll; a poll past closes_at is closed whether or not anyone acted.
    closed_at = fields.DatetimeField(null=True)
    results_visibility = fields.CharEnumField(
        ResultsVisibility, default=ResultsVisibility.LIVE, max_length=16
    )
    # Ballots cast (participations): moves with every vote, says nothing of any choice.
    total_votes = fields.IntField(default=0)
    # Ballots folded into the option counters; total_votes - counted_votes are still sealed.
    counted_votes = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set once the POLL_CLOSED notifications went out (by closePoll or by the first
    # reader after closes_at).
    close_notified = fields.BooleanField(default=False)
    hidden = fields.BooleanField(default=False)

    territory_id: int
    project_id: int | None
    created_by_id: int

    class Meta:
        table = "poll"


class PollOption(Model):
    id = fields.IntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="options", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    label = fields.CharField(max_length=200)
    votes = fields.IntField(default=0)

    poll_id: int

    class Meta:
        table = "poll_option"
        unique_together = (("poll", "position"),)


class PollParticipation(Model):
    # That a member voted in a poll, never what they chose. (No docstring: Tortoise turns it
    # into a table comment, and its SQLite migration splits statements on semicolons.)

    id = fields.IntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="participations", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="participations"
    )

    poll_id: int
    member_id: int

    class Meta:
        table = "poll_participation"
        unique_together = (("poll", "member"),)


class SealedBallot(Model):
    # A ballot cast and not yet counted: its choice sealed (AES-GCM, resolvers/sealing.py)
    # under a random id, with no timestamp and no member. Deleted by the transaction that
    # folds it into the counters. (No docstring: see PollParticipation.)

    id = fields.UUIDField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="sealed_ballots", on_delete=fields.CASCADE
    )
    sealed = fields.BinaryField()

    poll_id: int

    class Meta:
        table = "poll_sealed_ballot"
