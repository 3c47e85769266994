"""One transaction per mutation; events leave the outbox only after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.transactions import in_transaction

from resolvers.context import Context
from resolvers.response_cache import notify_changed
from schema.errors import Refusal, UserError

T = TypeVar("T")


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
    events, ctx.outbox = ctx.outbox, []
    # Other processes drop their cached anonymous answers (this one already did: every
    # commit moves its write count, see resolvers/response_cache.py).
    await notify_changed(ctx.broker)
    for event in events:
        await ctx.broker.publish(event)
    return result, []
