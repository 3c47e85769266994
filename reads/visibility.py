"""Who sees hidden content: a territory's moderators and admins, nobody else.

Moderation hides a row (`hidden`); it stays visible to those who moderate its territory.
Every read that may meet a hidden row asks through one of these two functions, with the
viewer (or the audience of a shared part) as the `Sight`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from tortoise.queryset import QuerySet

Q = TypeVar("Q", bound=QuerySet[Any])


class Sight(Protocol):
    """Whoever is looking: a request's viewer, or the audience of a shared part."""

    async def sees_hidden(self, territory_id: int) -> bool:
        """Whether hidden content of this territory is shown to them."""
        ...


async def can_see(sight: Sight, row: Any) -> bool:
    """Whether `sight` may see `row` (None: nothing to see)."""
    if row is None:
        return False
    if not getattr(row, "hidden", False):
        return True
    return await sight.sees_hidden(row.territory_id)


async def visible(sight: Sight, query: Q, territory_id: int) -> Q:
    """`query` (rows of one territory) narrowed to what `sight` may see."""
    if await sight.sees_hidden(territory_id):
        return query
    return query.filter(hidden=False)  # type: ignore[return-value]
