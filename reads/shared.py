"""Reading for an audience: what a shared part's build receives instead of a viewer.

A shared part (sharing/parts.py) is built once for everyone in an audience of one territory:
its reader has loaders that know no viewer, and shows hidden content only to the STAFF
audience of that territory.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from reads.loaders import Loaders
from sharing.parts import Audience, Part, SharedParts

Args = TypeVar("Args", bound=Hashable)
T = TypeVar("T")


@dataclass
class AudienceReader:
    """The reads of a shared part: one audience of one territory (or of none), no viewer."""

    audience: Audience
    territory_id: int | None
    loaders: Loaders = field(default_factory=lambda: Loaders(None))

    async def sees_hidden(self, territory_id: int) -> bool:
        return self.audience is Audience.STAFF and territory_id == self.territory_id

    async def sees_drafts(self, territory_id: int) -> bool:
        return await self.sees_hidden(territory_id)


SharedPart = Part[AudienceReader, Args, T]


async def read_shared(parts: SharedParts | None, part: SharedPart[Args, T], audience: Audience,
                      territory_id: int | None, args: Args) -> T:
    """The part for this audience: through the app's shared parts when there are (HTTP
    requests), built for this request alone otherwise (websockets, tests)."""
    if parts is None:
        return await part.build(AudienceReader(audience, territory_id), args)
    return await parts.get(part, audience, territory_id, args, lambda: AudienceReader(audience, territory_id))
