"""The root field `rateLimit`: the caller's own budget (schema/ratelimits.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from access.context import Context
from access.ratelimit import client_key
from models import clock
from schema.ratelimits import REQUESTS_BUCKET, RateLimit
from sharing.horizon import not_reusable


@strawberry.type
class RateLimitQuery:
    @strawberry.field(
        description="The caller's rate-limit budget and this query's cost (like GitHub's rateLimit). "
        "Only ever the caller's own: read from the address the server counts the request under."
    )
    async def rate_limit(self, info: Info[Context, None]) -> RateLimit:
        ctx = info.context
        scope = ctx.request.scope if ctx.request is not None else None
        budget = await ctx.limiter.budget(REQUESTS_BUCKET, client_key(scope))
        # One caller's answer: never kept by the response cache, nor by a browser's or a
        # CDN's (an anonymous GET answer is public otherwise, app/http_cache.py).
        not_reusable()
        headers = getattr(ctx.response, "headers", None)
        if headers is not None:
            headers["cache-control"] = "private, no-store"
        return RateLimit.of(budget, ctx.query_cost or 0, clock.now())
