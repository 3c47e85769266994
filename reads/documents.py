"""What a document belongs to, who reads its drafts, and whether its files are public.

A document has one owner among nullable foreign keys (a project, or a consultation's phase);
`owner_of` is the one place that knows them. A phase's document is public only once its
consultation is (a draft consultation's documents are its staff's, as the consultation is).
"""

from __future__ import annotations

from typing import Any

from models.accounts import Role
from models.consultations import Consultation, ConsultationPhase, ConsultationStatus
from models.projects import Document, Project
from reads.loaders import Loaders

# Who reads a territory's draft documents: those who write them (officials, admins) and the
# moderators (staff see everything of their territory).
DRAFT_READERS = frozenset({Role.OFFICIAL, Role.ADMIN, Role.MODERATOR})


async def owner_of(loaders: Loaders, row: Document) -> Any | None:
    """The row the document belongs to (a project or a consultation phase), or None if it is gone."""
    if row.project_id is not None:
        return await loaders.by_id(Project).load(row.project_id)
    if row.phase_id is not None:
        return await loaders.by_id(ConsultationPhase).load(row.phase_id)
    return None


def owner_key(row: Document) -> tuple[str, int]:
    """(kind, pk) of the owner, as reads/visibility.PARENTS walks it; an ownerless row names a
    project that cannot exist (pk 0), so `sees` finds nothing to see, never top-level content."""
    if row.project_id is not None:
        return "Project", row.project_id
    if row.phase_id is not None:
        return "ConsultationPhase", row.phase_id
    return "Project", 0


async def consultation_of(loaders: Loaders, owner: Any) -> Consultation | None:
    """The consultation of a phase owner (None for a project, or a phase that is gone)."""
    if not isinstance(owner, ConsultationPhase):
        return None
    found: Consultation | None = await loaders.by_id(Consultation).load(owner.consultation_id)
    return found


async def territory_of(loaders: Loaders, row: Document) -> int | None:
    owner = await owner_of(loaders, row)
    if isinstance(owner, ConsultationPhase):
        consultation = await consultation_of(loaders, owner)
        return consultation.territory_id if consultation is not None else None
    return owner.territory_id if owner is not None else None


async def sees_drafts(loaders: Loaders, territory_id: int) -> bool:
    """Whether the loaders' viewer reads the territory's drafts (membership: see DRAFT_READERS)."""
    member = await loaders.membership.load(territory_id)
    return member is not None and member.role in DRAFT_READERS


async def is_public(loaders: Loaders, row: Document) -> bool:
    """Whether anyone may read the document's files without a signed URL: not a draft, and
    its owner exists and is not hidden by moderation (a phase: its consultation is no draft)."""
    if row.draft:
        return False
    owner = await owner_of(loaders, row)
    if isinstance(owner, ConsultationPhase):
        consultation = await consultation_of(loaders, owner)
        return consultation is not None and consultation.status != ConsultationStatus.DRAFT
    return owner is not None and not getattr(owner, "hidden", False)
