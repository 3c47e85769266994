"""Whether the viewer may act, answered from the checks the mutations themselves run.

A mutation's checks (`check_*`) raise a `Refusal` (a userError) or a top-level
UNAUTHENTICATED / FORBIDDEN error. An app needs the same answer before the click, to show
or grey out a button: `permission(check)` runs the very same check and turns its outcome
into a `Permission`. The checks live here and in the domain type modules (schema/polls.py
`check_may_vote`, schema/questions.py `check_may_reply`, schema/ideas.py `check_may_support`)
because both the types (below resolvers) and the mutations call them. Reasoning: ADR 0017.

A Permission is the viewer's own: it is computed from `info.context` on every read, never
stored on a shared page's objects (sharing/parts.py).
"""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from graphql import GraphQLError

from access.context import Context
from access.i18n import Phrase
from models.accounts import Member
from models.territories import Territory as TerritoryRow
from schema.errors import Refusal, UserErrorCode

# Top-level error codes a check may raise, as a Permission's reason.
_TOP_LEVEL = {
    "UNAUTHENTICATED": UserErrorCode.UNAUTHENTICATED,
    "FORBIDDEN": UserErrorCode.FORBIDDEN,
}


@strawberry.type(description="Whether the viewer may do something now, and why not.")
class Permission:
    allowed: bool = strawberry.field(description="Whether the mutation would accept the viewer now.")
    reason: UserErrorCode | None = strawberry.field(
        description="What the mutation would answer instead (a userError code, or UNAUTHENTICATED / "
        "FORBIDDEN for its top-level errors, or the role a FORBIDDEN names in its extensions.reason: "
        "NOT_THE_AUTHOR, NOT_A_MODERATOR); null when allowed."
    )


ALLOWED = Permission(allowed=True, reason=None)


async def permission(check: Awaitable[object]) -> Permission:
    """The Permission a check gives: allowed when it passes, else its first refusal's code."""
    try:
        await check
    except Refusal as refusal:
        return Permission(allowed=False, reason=refusal.errors[0].code)
    except GraphQLError as error:
        extensions = error.extensions or {}
        reason = _TOP_LEVEL.get(extensions.get("code", ""))
        if reason is None:
            raise
        # A FORBIDDEN that names the missing role (extensions.reason: NOT_THE_AUTHOR...).
        refined = extensions.get("reason")
        if isinstance(refined, str) and refined in UserErrorCode.__members__:
            reason = UserErrorCode[refined]
        return Permission(allowed=False, reason=reason)
    return ALLOWED


async def check_member(ctx: Context, territory_id: int, action: str, *field: str) -> Member:
    """The viewer's membership of the territory, or a NOT_A_MEMBER refusal saying what
    joining would let them do ("Join the territory to vote."). Every write of a member
    goes through here, and so does every permission hint about one."""
    ctx.require_account()
    member = await ctx.membership(territory_id)
    if member is None:
        raise Refusal.of(UserErrorCode.NOT_A_MEMBER, "Join the territory to {action}.", *field, action=Phrase(action))
    await check_email_verified(ctx, territory_id, action)
    return member


async def check_email_verified(
    ctx: Context, territory_id: int, action: str, *, required: bool | None = None
) -> None:
    """EMAIL_NOT_VERIFIED when the territory requires a confirmed email for its members'
    writes and the viewer's is not (they may still read and join). Every write of a member
    comes here through check_member (the ballot box may pass the territory's `required` it
    read in its own statement); a verified account costs no query."""
    account = ctx.account
    if account is None or account.email_verified_at is not None:
        return
    if required is None:
        required = ctx.loaders.email_required.get(territory_id)
    if required is None:
        territory = await ctx.loaders.by_id(TerritoryRow).load(territory_id)
        required = territory is not None and territory.email_verification_required
    if required:
        raise Refusal.of(
            UserErrorCode.EMAIL_NOT_VERIFIED,
            "Confirm your email (follow the link we mailed you) to {action}.",
            action=Phrase(action),
        )
