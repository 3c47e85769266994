"""Delivery after commit: messages (emails, pushes) leave only once the write that asked for
them committed, at least once, retried with backoff, never twice for one key.

The interface (docs/adr/0010):

- `await enqueue(channel, recipient, payload, key)` inside the mutation's transaction writes
  one job to the `delivery_job` table: it commits or rolls back with the change. `key` is the
  idempotency key: a second enqueue with the same key is ignored, so a retried request (or
  two concurrent ones) sends one message. `payload` is JSON the channel's sender reads.
- `register_sender(channel, sender)` at start-up: `sender(job)` sends one `Job` and returns;
  raising `PermanentFailure` sends the job to the dead letters at once, any other exception
  retries it later with backoff (`delivery.worker`).
- `wake()` after a commit: the process's worker looks at the queue now rather than at its
  next poll.
- `register_preparer(kind, prepare)`: a job whose payload's "kind" is `kind` is handed to
  `prepare(job)` by the worker just before sending; it returns the payload to send, or None
  when there is nothing to send (the job is then done). A request can so queue the same job
  whatever the data says, and the worker decides (a password reset for an address that may
  have no account answers in the same time either way).

Workers (`delivery.worker.Worker`) run in every server process; on PostgreSQL any number of
them share the queue (claims with FOR UPDATE SKIP LOCKED), on SQLite one process delivers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from models.clock import now
from models.delivery import DeliveryJob


@dataclass(frozen=True)
class Job:
    """One message to send, as a sender receives it."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    # Stable across retries: senders pass it on (an email's Message-ID) so a receiver can
    # drop the copy a worker killed between sending and recording may send again.
    key: str
    attempt: int


class PermanentFailure(Exception):
    """A job that no retry will deliver (an address the server refuses): dead at once."""


Sender = Callable[[Job], Awaitable[None]]
Preparer = Callable[[Job], Awaitable[dict[str, Any] | None]]

_senders: dict[str, Sender] = {}
_preparers: dict[str, Preparer] = {}
_wake: asyncio.Event | None = None


def register_sender(channel: str, sender: Sender) -> None:
    """The sender of a channel ("email", "push"); the last registration wins."""
    _senders[channel] = sender


def sender_for(channel: str) -> Sender | None:
    return _senders.get(channel)


def register_preparer(kind: str, prepare: Preparer) -> None:
    """What turns a job of payload kind `kind` into the payload to send, at send time."""
    _preparers[kind] = prepare


async def prepare(job: Job) -> Job | None:
    """The job as it is to be sent, or None when its preparer found nothing to send."""
    preparer = _preparers.get(str(job.payload.get("kind")))
    if preparer is None:
        return job
    payload = await preparer(job)
    return None if payload is None else dataclasses.replace(job, payload=payload)


_queued = 0


async def enqueue(channel: str, recipient: str, payload: dict[str, Any], key: str) -> None:
    """Queue a message in the current transaction; ignored if `key` was queued before."""
    global _queued
    job = DeliveryJob(channel=channel, recipient=recipient, payload=payload, key=key[:200], run_after=now())
    await DeliveryJob.bulk_create([job], ignore_conflicts=True)
    _queued += 1


def queued() -> int:
    """How many messages this process has queued so far: a transaction that moved it has
    something for the worker (`wake` after its commit); one that did not, nothing."""
    return _queued


def wake() -> None:
    """Tell this process's worker that jobs may be waiting (after a commit)."""
    if _wake is not None:
        _wake.set()


def wake_event() -> asyncio.Event:
    """The event `wake` sets, made once per process by the worker that waits on it."""
    global _wake
    if _wake is None:
        _wake = asyncio.Event()
    return _wake
