"""The caller's own rate-limit budget, as GitHub's `rateLimit` shows it: what is left of the
requests its address may send this window, when the window ends, and what this query costs.

The budget is the caller's alone: it is read from the key the limiter counts the request
under (app/middleware.py: the client address, the forwarded one behind a trusted proxy),
never from an argument, and the answer is never cached or shared (anonymous answers are
otherwise kept, docs/adr/0006): another client cannot read it.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from access.ratelimit import Budget
from schema.limits import MAX_COST

# The bucket every HTTP request to /graphql is counted in (app/middleware.py).
REQUESTS_BUCKET = "requests_ip"


@strawberry.type(
    description="The caller's request budget (counted per client address, as the server limits it) "
    "and what this query costs. Over the limit, requests answer HTTP 429 RATE_LIMITED until resetAt."
)
class RateLimit:
    limit: int = strawberry.field(description="Requests the caller's address may send per window.")
    remaining: int = strawberry.field(
        description="Requests left in the current window, this one counted."
    )
    used: int = strawberry.field(description="Requests counted in the current window, this one included.")
    reset_at: dt.datetime = strawberry.field(
        description="When the current window ends and the budget is whole again."
    )
    cost: int = strawberry.field(
        description="This query's cost: the most nodes it could return (what the server bounds per query)."
    )
    max_cost: int = strawberry.field(
        description=f"The highest cost a single query may have ({MAX_COST}); above it, MAX_COST_EXCEEDED."
    )

    @classmethod
    def of(cls, budget: Budget, cost: int, now: dt.datetime) -> RateLimit:
        return cls(
            limit=budget.limit,
            remaining=max(0, budget.limit - budget.used),
            used=budget.used,
            reset_at=now + dt.timedelta(seconds=budget.resets_in),
            cost=cost,
            max_cost=MAX_COST,
        )
