"""What every stream checks when it starts: the territory it follows, the cursor it resumes from."""

from __future__ import annotations

from access.errors import not_found
from models.territories import Territory as TerritoryRow
from reads.paging import decode_cursor
from schema.relay import decode_id_of


def after_id(after: str | None) -> int | None:
    """The entry id of a one-id cursor (feed, notifications); BAD_USER_INPUT if malformed."""
    if after is None:
        return None
    return decode_cursor(after, 1)[0]


async def check_territory(territory_id: str) -> int:
    """The pk of an existing territory's global id, else NOT_FOUND."""
    pk = decode_id_of(territory_id, "Territory")
    if pk is None or not await TerritoryRow.filter(id=pk).exists():
        raise not_found("No such territory.")
    return pk
