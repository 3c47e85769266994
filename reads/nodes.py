"""The row behind a global id's kind and pk, if the reader may see it.

One registry of every Node kind's model, and one rule for each: hidden content only for
the territory's moderators and admins, and what sits under it with it (reads/visibility.py,
`sees`); reports for staff only; notifications for their recipient only, and only while
they may see its subject (but for CONTENT_HIDDEN, whose subject is what was hidden from
them). node(id), nodes(ids), mutations' id arguments, Reply.question, Report.subject,
Notification.subject and the notifications listing all read through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.accounts import AccessToken, Member
from models.comments import Comment
from models.consultations import Consultation, ConsultationPhase, ConsultationStatus, Outcome
from models.ideas import Idea
from models.moderation import Report
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.polls import Poll
from models.projects import Document, Project
from models.questions import Question, Reply
from models.surveys import SURVEY_STAFF, Survey
from models.territories import Territory
from reads.documents import sees_drafts, territory_of
from reads.loaders import Loaders
from reads.visibility import Sight, hidden_subjects, parent_of


class Looker(Sight, Protocol):
    """A sight with loaders to read parents through (a request context, an audience reader)."""

    @property
    def loaders(self) -> Loaders: ...


class Reader(Looker, Protocol):
    """A viewer as node resolution needs one (the request context is one)."""

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
    "Survey": NodeKind(Survey),
    "Consultation": NodeKind(Consultation),
    "ConsultationPhase": NodeKind(ConsultationPhase),
    "Outcome": NodeKind(Outcome),
}


MODELS: dict[str, type[Model]] = {name: kind.model for name, kind in KINDS.items()}
# What notifications point at, besides CONTENT_HIDDEN (shown to its recipient regardless).
NOTIFIED = ("Question", "Reply", "Idea", "Project", "Document", "NewsPost", "Poll", "Comment")


async def sees(looker: Looker, kind: str, row: Any) -> bool:
    """Whether `looker` may see `row` (of `kind`): not hidden from them, nor anything it sits
    under (None, or a parent that is gone: nothing to see)."""
    while row is not None:
        if getattr(row, "hidden", False) and not await looker.sees_hidden(row.territory_id):
            return False
        if kind == "Consultation" and not await sees_consultation(looker, row):
            return False
        parent = parent_of(kind, row)
        if parent is None:
            return True
        kind, pk = parent
        model = KINDS[kind].model if kind in KINDS else None
        row = await looker.loaders.by_id(model).load(pk) if model is not None else None
    return False


async def sees_consultation(sight: Sight, row: Consultation) -> bool:
    """A consultation is public once published; its draft only for the territory's
    officials and staff (and so are its phases, documents and outcomes, under it)."""
    return row.status != ConsultationStatus.DRAFT or await sight.sees_drafts(row.territory_id)


def notification_subject_seen(kind: object) -> bool:
    """Whether a notification of this kind shows its recipient its subject even while hidden:
    CONTENT_HIDDEN, whose subject is their own content a moderator hid."""
    return kind == NotificationKind.CONTENT_HIDDEN


async def notification_subject(reader: Reader, row: Notification) -> tuple[bool, Any | None]:
    """Whether its recipient may see the notification `row`, and its subject if it still
    exists: hidden content they may not see hides the notification that points at it."""
    kind = KINDS.get(row.subject_type)
    subject = await reader.loaders.by_id(kind.model).load(row.subject_id) if kind is not None else None
    if subject is None or notification_subject_seen(row.kind):
        return True, subject
    if await load_row(reader, row.subject_type, row.subject_id) is None:
        return False, None
    return True, subject


def visible_notifications(query: QuerySet[Notification], account_id: int) -> QuerySet[Notification]:
    """The notifications of `query` (all of `account_id`) whose subject their recipient may see."""
    return query.filter(
        Q(kind=NotificationKind.CONTENT_HIDDEN) | ~hidden_subjects(MODELS, account_id, NOTIFIED)
    )


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
        if account_id is None or getattr(row, kind.owner_field) != account_id:
            return None
        if kind_name == "Notification" and not (await notification_subject(reader, row))[0]:
            return None
        return row
    if kind_name == "Report":
        return row if await reader.is_staff(row.territory_id) else None
    if kind_name == "Survey" and row.published_at is None:
        # A draft survey: its territory's officials, moderators and admins only.
        member = await reader.loaders.membership.load(row.territory_id) if reader.account_id is not None else None
        if member is None or member.role not in SURVEY_STAFF:
            return None
    if not await sees(reader, kind_name, row):
        return None
    if kind_name == "Document" and row.draft:
        # A draft document exists only for its territory's draft readers (reads/documents.py).
        territory_id = await territory_of(reader.loaders, row)
        if territory_id is None or not await sees_drafts(reader.loaders, territory_id):
            return None
    return row
