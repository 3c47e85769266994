"""The worker: claims due jobs, hands them to their channel's sender, records the outcome.

At least once: a job is claimed for a lease (`locked_until`) and marked SENT only after its
sender returned; a worker killed mid-send leaves it PENDING, and another takes it once the
lease lapses. A failed send is retried with exponential backoff; after `max_attempts` (or a
`PermanentFailure`) the job is DEAD, listed and replayed by an operator (`python server.py
delivery dead|replay`). Claims use FOR UPDATE SKIP LOCKED, so on PostgreSQL any number of
processes share the queue without taking the same job; SQLite drops that clause and runs
one process (docs/adr/0010).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from delivery import Job, PermanentFailure, prepare, sender_for, wake_event
from models.clock import now
from models.delivery import DeliveryJob, JobStatus

log = logging.getLogger("parvis.delivery")

# What a sent job keeps of its payload: `secret` (an emailed token, say) goes once sent.
SECRET = "secret"


@dataclass(frozen=True)
class Policy:
    """How the worker claims and retries."""

    poll_seconds: float = 2.0
    max_attempts: int = 8
    # The first retry waits this long, each next one twice as long, at most `backoff_cap`.
    backoff_seconds: float = 10.0
    backoff_cap: float = 3600.0
    # A claim lasts this long; a send is cut off well before (`send_timeout`), so a slow
    # sender never overlaps the worker that takes its job over.
    lease_seconds: float = 120.0
    send_timeout: float = 60.0
    batch: int = 20

    def backoff(self, attempts: int) -> dt.timedelta:
        base = min(self.backoff_seconds * 2 ** max(attempts - 1, 0), self.backoff_cap)
        # Jitter spreads the retries of many jobs refused by the same outage.
        return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


class Worker:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()

    async def claim(self) -> list[DeliveryJob]:
        """Due jobs nobody holds, now held by this worker for one lease."""
        t = now()
        async with in_transaction():
            rows = (
                await DeliveryJob.filter(status=JobStatus.PENDING, run_after__lte=t)
                .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=t))
                .order_by("run_after", "id")
                .limit(self.policy.batch)
                .select_for_update(skip_locked=True)
            )
            claimed = []
            for row in rows:
                # Conditional, row by row: where the locking clause is dropped (SQLite, or
                # two server processes on one SQLite file), a row another worker claimed
                # meanwhile is not claimed twice.
                taken = await DeliveryJob.filter(
                    Q(locked_until__isnull=True) | Q(locked_until__lte=t), id=row.id, status=JobStatus.PENDING
                ).update(locked_until=t + dt.timedelta(seconds=self.policy.lease_seconds), attempts=F("attempts") + 1)
                if taken:
                    row.attempts += 1
                    claimed.append(row)
        return claimed

    async def run_once(self) -> int:
        """Claim a batch and deliver it; how many jobs were claimed."""
        rows = await self.claim()
        await asyncio.gather(*(self.deliver(row) for row in rows))
        return len(rows)

    async def drain(self) -> int:
        """Deliver until nothing is due (tests, the CLI)."""
        total = 0
        while count := await self.run_once():
            total += count
        return total

    async def run_forever(self) -> None:
        """Deliver as jobs come: at once after a local commit (`delivery.wake`), else every
        `poll_seconds` (jobs of other processes, retries coming due)."""
        wake = wake_event()
        while True:
            try:
                if await self.run_once():
                    continue
            except Exception:  # noqa: BLE001 - a passing database error must not stop delivery
                log.exception("delivery: claiming jobs failed; retrying in %s s", self.policy.poll_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.policy.poll_seconds)
            wake.clear()

    async def deliver(self, row: DeliveryJob) -> None:
        job = Job(row.id, row.channel, row.recipient, dict(row.payload), row.key, row.attempts)
        try:
            await asyncio.wait_for(send(job), self.policy.send_timeout)
        except PermanentFailure as exc:
            await self._dead(row, exc)
        except Exception as exc:  # noqa: BLE001 - any failure of a send is retried
            if row.attempts >= self.policy.max_attempts:
                await self._dead(row, exc)
            else:
                await self._retry(row, exc)
        else:
            # What was queued, less its secret (a preparer's payload is never stored).
            payload = {k: v for k, v in row.payload.items() if k != SECRET}
            await DeliveryJob.filter(id=row.id).update(
                status=JobStatus.SENT, sent_at=now(), locked_until=None, last_error=None, payload=payload
            )

    async def _retry(self, row: DeliveryJob, exc: BaseException) -> None:
        delay = self.policy.backoff(row.attempts)
        # Never the payload: it may hold a token.
        log.warning("delivery: job %s (%s) failed, attempt %s, retrying in %.0f s: %s",
                    row.id, row.channel, row.attempts, delay.total_seconds(), _reason(exc))
        await DeliveryJob.filter(id=row.id).update(
            run_after=now() + delay, locked_until=None, last_error=_reason(exc)
        )

    async def _dead(self, row: DeliveryJob, exc: BaseException) -> None:
        log.error("delivery: job %s (%s) is dead after %s attempts: %s",
                  row.id, row.channel, row.attempts, _reason(exc))
        await DeliveryJob.filter(id=row.id).update(status=JobStatus.DEAD, locked_until=None, last_error=_reason(exc))


async def send(job: Job) -> None:
    """Prepare a job (it may turn out to have nothing to send) and hand it to its sender."""
    sender = sender_for(job.channel)
    if sender is None:
        raise LookupError(f"no sender for channel {job.channel!r} in this process")
    prepared = await prepare(job)
    if prepared is not None:
        await sender(prepared)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


async def dead_jobs(limit: int = 100) -> list[DeliveryJob]:
    """The dead letters, oldest first."""
    return await DeliveryJob.filter(status=JobStatus.DEAD).order_by("id").limit(limit)


async def replay(ids: Iterable[int] | None = None) -> int:
    """Give dead jobs (all, or those of `ids`) a fresh set of attempts; how many."""
    query = DeliveryJob.filter(status=JobStatus.DEAD)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    count = await query.update(status=JobStatus.PENDING, attempts=0, run_after=now(), locked_until=None)
    return int(count)
