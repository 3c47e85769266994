"""The delivery queue: messages (emails, pushes) to send after a write commits.

A job is written in the same transaction as the change that asks for it, so a rolled-back
write sends nothing and a committed one is never forgotten (docs/adr/0010).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class JobStatus(StrEnum):
    PENDING = "PENDING"  # waiting for run_after, or claimed until locked_until
    SENT = "SENT"
    DEAD = "DEAD"  # out of attempts, or refused for good: an operator replays it


class DeliveryJob(Model):
    id = fields.BigIntField(primary_key=True)
    # Idempotency: one job per key, whatever retries of the request enqueue it.
    key = fields.CharField(max_length=200, unique=True)
    channel = fields.CharField(max_length=32)
    recipient = fields.CharField(max_length=500)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    status = fields.CharEnumField(JobStatus, max_length=8, default=JobStatus.PENDING)
    attempts = fields.IntField(default=0)
    run_after = fields.DatetimeField(db_index=True)
    # A worker's claim: until then no other worker takes the job; a worker killed mid-send
    # leaves the job to be taken again once the claim lapses.
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery_job"
