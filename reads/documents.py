"""What a document belongs to, who reads its drafts, and whether its files are public.

A document has one owner among nullable foreign keys (a project today); `owner_of` is the
one place that knows them, so a new owner (a consultation's phase) is one more case here.
"""

from __future__ import annotations

from typing import Any

from models.accounts import Role
from models.projects import Document, Project
from reads.loaders import Loaders

# Who reads a territory's draft documents: those who write them (officials, admins) and the
# moderators (staff see everything of their territory).
DRAFT_READERS = frozenset({Role.OFFICIAL, Role.ADMIN, Role.MODERATOR})


async def owner_of(loaders: Loaders, row: Document) -> Any | None:
    """The row the document belongs to (a project), or None if it is gone."""
    if row.project_id is not None:
        return await loaders.by_id(Project).load(row.project_id)
    return None


async def territory_of(loaders: Loaders, row: Document) -> int | None:
    owner = await owner_of(loaders, row)
    return owner.territory_id if owner is not None else None


async def sees_drafts(loaders: Loaders, territory_id: int) -> bool:
    """Whether the loaders' viewer reads the territory's drafts (membership: see DRAFT_READERS)."""
    member = await loaders.membership.load(territory_id)
    return member is not None and member.role in DRAFT_READERS


async def is_public(loaders: Loaders, row: Document) -> bool:
    """Whether anyone may read the document's files without a signed URL: not a draft, and
    its owner exists and is not hidden by moderation."""
    if row.draft:
        return False
    owner = await owner_of(loaders, row)
    return owner is not None and not getattr(owner, "hidden", False)
