"""The skeleton every mutation shares: rate limit, one transaction, payload with userErrors.

A mutation's `work` runs in one transaction; a `Refusal` raised inside rolls it back and
becomes the payload's userErrors; the events it queued are published only after commit
(nothing for a write that rolled back), and other processes are told that data changed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from tortoise.transactions import in_transaction

from access.context import Context
from access.i18n import N_, Phrase
from access.ratelimit import Decision, Limiter
from delivery import queued, wake
from schema.errors import Refusal, UserError, UserErrorCode
from schema.permissions import check_email_verified as check_email_verified
from schema.permissions import check_member as check_member  # one place for writes and hints
from sharing.stamp import LOCAL, announce_write

T = TypeVar("T")
P = TypeVar("P")

log = logging.getLogger("parvis.transactions")


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """`in_transaction()`, safe to stop while it begins.

    Tortoise's context takes the connection (SQLite's one connection, behind a lock; a
    PostgreSQL pool connection), then sends BEGIN; its __aexit__ gives it back. A cancellation
    landing in between (the operation timeout) skips __aexit__: the lock or the pool
    connection stays taken for good and every later write of the process waits. Here, once
    the context holds its connection (its connection variable is set, just before BEGIN),
    a failure to begin rolls back and gives it back, then goes on."""
    context = in_transaction()
    try:
        await context.__aenter__()
    except BaseException as exc:
        if hasattr(context, "token"):  # the connection was taken: give it back
            try:
                await context.__aexit__(type(exc), exc, exc.__traceback__)
            except Exception as cleanup:  # noqa: BLE001 - the first failure is the one to raise
                log.warning("releasing a transaction that failed to begin: %s", cleanup)
        raise
    try:
        yield
    except BaseException as exc:
        await context.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    await context.__aexit__(None, None, None)


async def run_in_transaction(
    ctx: Context, work: Callable[[], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run `work` in one transaction: (result, []) once committed and its events
    published, or (None, userErrors) after a rollback that published nothing."""
    ctx.outbox.clear()
    queued_before = queued()
    members_before = LOCAL.tables.get("member", 0)
    try:
        async with atomic():
            result = await work()
    except Refusal as refusal:
        ctx.outbox.clear()
        return None, refusal.errors
    except BaseException:
        ctx.outbox.clear()
        raise
    if LOCAL.tables.get("member", 0) != members_before:
        # A membership changed (a join, a leave, a role, a verification; perhaps the viewer's
        # own): the rest of the request reads the viewer's memberships again, not those read
        # with the token or cached by its loaders.
        ctx.fresh_loaders()
    # Other processes drop what they share (this one already did: every commit moves its
    # write count, see sharing/stamp.py).
    await announce_write(ctx.broker)
    await ctx.outbox.publish(ctx.broker)
    # Mails and pushes the write queued leave now, outside the request (docs/adr/0010); a
    # write that queued none (a vote, a count) does not send the worker to look for any.
    if queued() != queued_before:
        wake()
    return result, []


async def mutate(
    ctx: Context,
    work: Callable[[], Awaitable[T]],
    respond: Callable[[T | None, list[UserError]], P],
    *,
    limit: tuple[str, str] | None = None,
) -> P:
    """A mutation: `limit` (bucket, what is counted) per account first, then `work` in one
    transaction, answered by `respond(result or None, userErrors)`."""
    if limit is not None and (limited := await check_account_rate(ctx, *limit)):
        return respond(None, limited)
    result, errors = await run_in_transaction(ctx, work)
    return respond(result, errors)


def rate_limited(decision: Decision, what: str = N_("attempts")) -> list[UserError]:
    """The userErrors of a mutation refused by a limit (field null)."""
    seconds = decision.retry_seconds
    return [
        UserError(
            field=None,
            message=("Too many {what}; retry in {retryAfterSeconds} seconds." if seconds != 1
                     else "Too many {what}; retry in {retryAfterSeconds} second."),
            code=UserErrorCode.RATE_LIMITED,
            retry_after_seconds=seconds,
            arguments={"what": Phrase(what), "retryAfterSeconds": seconds},
        )
    ]


async def check_rate(limiter: Limiter, bucket: str, key: object, what: str) -> list[UserError]:
    """Count one attempt; [] when it fits, else the RATE_LIMITED userErrors to return."""
    decision = await limiter.hit(bucket, key)
    return [] if decision.allowed else rate_limited(decision, what)


async def check_account_rate(ctx: Context, bucket: str, what: str) -> list[UserError]:
    """check_rate for the viewer's account; [] for an anonymous viewer (the mutation then
    refuses them as UNAUTHENTICATED itself)."""
    if ctx.account is None:
        return []
    return await check_rate(ctx.limiter, bucket, ctx.account.id, what)
