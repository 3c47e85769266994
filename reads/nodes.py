"""The row behind a global id's kind and pk, if the reader may see it.

One registry of every Node kind's model, and one rule for each: hidden content only for
the territory's moderators and admins, reports for staff only, notifications for their
recipient only, a document as its project. node(id), nodes(ids), mutations' id arguments,
Report.subject and Notification.subject all read through `load_row`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tortoise.models import Model

from models.accounts import AccessToken, Member
from models.comments import Comment
from models.ideas import Idea
from models.moderation import Report
from models.news import NewsPost
from models.notifications import Notification
from models.polls import Poll
from models.projects import Document, Project
from models.questions import Question, Reply
from models.territories import Territory
from reads.loaders import Loaders
from reads.visibility import Sight, can_see


class Reader(Sight, Protocol):
    """A viewer as node resolution needs one (the request context is one)."""

    @property
    def loaders(self) -> Loaders: ...

    @property
    def account_id(self) -> int | None: ...

    async def is_staff(self, territory_id: int) -> bool: ...


@dataclass(frozen=True)
class NodeKind:
    model: type[Model]
    related: tuple[str, ...] = ()
    # Account-scoped kinds resolve only for their owner.
    owner_field: str | None = None


KINDS: dict[str, NodeKind] = {
    "Territory": NodeKind(Territory),
    "Member": NodeKind(Member, ("account",)),
    "Question": NodeKind(Question),
    "Reply": NodeKind(Reply),
    "Idea": NodeKind(Idea),
    "Project": NodeKind(Project),
    "Document": NodeKind(Document),
    "Poll": NodeKind(Poll),
    "NewsPost": NodeKind(NewsPost),
    "Comment": NodeKind(Comment),
    "Report": NodeKind(Report),
    "Notification": NodeKind(Notification, owner_field="account_id"),
    "Session": NodeKind(AccessToken, owner_field="account_id"),
}


async def load_row(reader: Reader, kind_name: str, pk: int) -> Any | None:
    """The row behind (kind, pk) if the reader may see it, else None."""
    kind = KINDS.get(kind_name)
    if kind is None:
        return None
    if kind.related:
        row: Any = await kind.model.filter(id=pk).select_related(*kind.related).first()
    else:
        row = await reader.loaders.by_id(kind.model).load(pk)
    if row is None:
        return None
    if kind.owner_field is not None:
        account_id = reader.account_id
        return row if account_id is not None and getattr(row, kind.owner_field) == account_id else None
    if kind_name == "Report":
        return row if await reader.is_staff(row.territory_id) else None
    if kind_name == "Document":
        project = await reader.loaders.by_id(Project).load(row.project_id)
        return row if await can_see(reader, project) else None
    if hasattr(row, "hidden") and not await can_see(reader, row):
        return None
    return row
