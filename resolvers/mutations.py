"""The skeleton every mutation shares: rate limit, one transaction, payload with userErrors.

A mutation's `work` runs in one transaction; a `Refusal` raised inside rolls it back and
becomes the payload's userErrors; the events it queued are published only after commit
(nothing for a write that rolled back), and other processes are told that data changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.transactions import in_transaction

from access.context import Context
from access.ratelimit import Decision, Limiter
from delivery import wake
from models.accounts import Member
from models.territories import Territory as TerritoryRow
from schema.errors import Refusal, UserError, UserErrorCode
from sharing.stamp import announce_write

T = TypeVar("T")
P = TypeVar("P")


async def run_in_transaction(
    ctx: Context, work: Callable[[], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run `work` in one transaction: (result, []) once committed and its events
    published, or (None, userErrors) after a rollback that published nothing."""
    ctx.outbox.clear()
    try:
        async with in_transaction():
            result = await work()
    except Refusal as refusal:
        ctx.outbox.clear()
        return None, refusal.errors
    except BaseException:
        ctx.outbox.clear()
        raise
    # Other processes drop what they share (this one already did: every commit moves its
    # write count, see sharing/stamp.py).
    await announce_write(ctx.broker)
    await ctx.outbox.publish(ctx.broker)
    # Mails and pushes the write queued leave now, outside the request (docs/adr/0010).
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


async def check_member(ctx: Context, territory_id: int, action: str, *field: str) -> Member:
    """The viewer's membership of the territory, or a NOT_A_MEMBER refusal saying what
    joining would let them do ("Join the territory to vote."); then check_email_verified."""
    member = await ctx.membership(territory_id)
    if member is None:
        raise Refusal.of(UserErrorCode.NOT_A_MEMBER, f"Join the territory to {action}.", *field)
    await check_email_verified(ctx, territory_id, action)
    return member


async def check_email_verified(
    ctx: Context, territory_id: int, action: str, *, required: bool | None = None
) -> None:
    """EMAIL_NOT_VERIFIED when the territory requires a confirmed email for its members'
    writes and the viewer's is not (they may still read and join). Every write of a member
    comes here (check_member, and the ballot box that reads the membership itself and passes
    the territory's `required` it read in the same statement); a verified account costs no
    query."""
    account = ctx.account
    if account is None or account.email_verified_at is not None:
        return
    if required is None:
        territory = await ctx.loaders.by_id(TerritoryRow).load(territory_id)
        required = territory is not None and territory.email_verification_required
    if required:
        raise Refusal.of(
            UserErrorCode.EMAIL_NOT_VERIFIED,
            f"Confirm your email (follow the link we mailed you) to {action}.",
        )


def rate_limited(decision: Decision, what: str = "attempts") -> list[UserError]:
    """The userErrors of a mutation refused by a limit (field null)."""
    seconds = decision.retry_seconds
    return [
        UserError(
            field=None,
            message=f"Too many {what}; retry in {seconds} second{'s' if seconds != 1 else ''}.",
            code=UserErrorCode.RATE_LIMITED,
            retry_after_seconds=seconds,
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
