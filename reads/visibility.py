"""Who sees hidden content: one rule, applied where rows are loaded (ADR 0014).

Moderation hides a row (`hidden`). A row is hidden from a reader when it was hidden, or when
it sits under a row hidden from them (`PARENTS`: a reply under its question, a comment under
what it comments, a document under its project or phase, a feed entry under its subject). A
territory's moderators and admins (staff) see the hidden content of their territory; nobody
else does, its author included (they are told why in a CONTENT_HIDDEN notification, whose
subject alone shows them what was hidden).

Every read that may meet a hidden row asks through this module, with the viewer (or the
audience of a shared part) as the `Sight`: `reads.nodes.sees` for one row (its own flag,
then its parents'), `visible` for a query of one territory's rows whose parent the reader
already sees, `hidden_subjects` for rows that point at content of any kind (notifications).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.accounts import Member, Role
from models.consultations import ConsultationStatus
from reads.documents import owner_key

Q_ = TypeVar("Q_", bound=QuerySet[Any])

# The roles that moderate a territory: they see its hidden content.
STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})
# Who reads a territory's unpublished drafts (consultations): its staff and the officials
# who write them.
DRAFT_READERS = STAFF_ROLES | {Role.OFFICIAL}

# What each kind of row sits under, as (kind, pk) of its parent: hidden with it.
PARENTS: dict[str, Callable[[Any], tuple[str, int] | None]] = {
    "Reply": lambda row: ("Question", row.question_id),
    "Comment": lambda row: (row.subject_type, row.subject_id),
    # A project's document, or a consultation phase's (reads/documents.owner_key).
    "Document": lambda row: owner_key(row),
    "FeedEntry": lambda row: (row.subject_type, row.subject_id),
    "ConsultationPhase": lambda row: ("Consultation", row.consultation_id),
    # A survey a phase holds is seen by whom sees the phase's consultation (its draft: its staff).
    "Survey": lambda row: ("ConsultationPhase", row.phase_id) if row.phase_id is not None else None,
    "Outcome": lambda row: ("ConsultationPhase", row.phase_id),
}


class Sight(Protocol):
    """Whoever is looking: a request's viewer, or the audience of a shared part."""

    async def sees_hidden(self, territory_id: int) -> bool:
        """Whether hidden content of this territory is shown to them."""
        ...

    async def sees_drafts(self, territory_id: int) -> bool:
        """Whether unpublished drafts of this territory (consultations) are shown to them."""
        ...


def parent_of(kind: str, row: Any) -> tuple[str, int] | None:
    """(kind, pk) of the row `row` sits under, or None for top-level content."""
    parent = PARENTS.get(kind)
    return parent(row) if parent is not None else None


async def can_see(sight: Sight, row: Any) -> bool:
    """Whether `sight` may see `row` by its own flag alone (None: nothing to see).

    Only for a row whose parents the reader was already shown (a question's reply, read from
    the question); any other row goes through `reads.nodes.sees`, which also asks its parents.
    """
    if row is None:
        return False
    if not getattr(row, "hidden", False):
        return True
    return await sight.sees_hidden(row.territory_id)


async def visible(sight: Sight, query: Q_, territory_id: int) -> Q_:
    """`query` (rows of one territory, under a parent the reader sees) narrowed to what
    `sight` may see."""
    if await sight.sees_hidden(territory_id):
        return query
    return query.filter(hidden=False)  # type: ignore[return-value]


def _hidden_rows(models: dict[str, type[Model]], kind: str, account_id: int) -> Q:
    """Rows of `kind` hidden from the reader `account_id`: hidden themselves (unless they are
    staff of the row's territory), or under a parent hidden from them."""
    staff_of = _staff_of(account_id)
    own = Q(hidden=True) & ~Q(territory_id__in=staff_of)
    if kind == "Reply":
        return own | Q(question_id__in=_ids(models, "Question", account_id))
    if kind == "Document":
        # Both owners guarded by IS NOT NULL: a NULL key must make the test false, not
        # unknown (NOT of unknown would take a visible document out of a listing too).
        return Q(
            Q(project_id__isnull=False, project_id__in=_ids(models, "Project", account_id)),
            Q(phase_id__isnull=False, phase_id__in=_draft_phases(models, account_id)),
            join_type=Q.OR,
        )
    if kind == "Consultation":
        # A draft is read by its territory's officials, moderators and admins only.
        return Q(status=ConsultationStatus.DRAFT) & ~Q(territory_id__in=_draft_readers_of(account_id))
    if kind == "Comment":
        under = [
            Q(subject_type=parent, subject_id__in=_ids(models, parent, account_id))
            for parent in COMMENTED
        ]
        return Q(own, *under, join_type=Q.OR)
    return own


def _ids(models: dict[str, type[Model]], kind: str, account_id: int) -> Subquery:
    return Subquery(models[kind].filter(_hidden_rows(models, kind, account_id)).values("id"))


def _draft_phases(models: dict[str, type[Model]], account_id: int) -> Subquery:
    """The phases of draft consultations `account_id` may not read (not of their territories
    as an official, moderator or admin)."""
    drafts = models["Consultation"].filter(status=ConsultationStatus.DRAFT).exclude(
        territory_id__in=_draft_readers_of(account_id)
    )
    return Subquery(models["ConsultationPhase"].filter(consultation_id__in=Subquery(drafts.values("id"))).values("id"))


def _draft_readers_of(account_id: int) -> Subquery:
    """The territories whose draft consultations `account_id` reads (official, moderator or
    admin there)."""
    return _territories_where(account_id, DRAFT_READERS)


# What comments are written on (Comment.subject_type).
COMMENTED = ("Question", "Idea", "Project", "NewsPost")


def hidden_subjects(
    models: dict[str, type[Model]], account_id: int, kinds: tuple[str, ...]
) -> Q:
    """Rows with (subject_type, subject_id) pointing at content of `kinds` that the reader
    `account_id` may not see (the same rule as `reads.nodes.sees`, in SQL), for a listing to
    leave out."""
    return Q(
        *(Q(subject_type=kind, subject_id__in=_ids(models, kind, account_id)) for kind in kinds),
        join_type=Q.OR,
    )


def _staff_of(account_id: int) -> Subquery:
    """The territories `account_id` moderates or administers (as the request context's
    `is_staff` has it)."""
    return _territories_where(account_id, STAFF_ROLES)


def _territories_where(account_id: int, roles: Iterable[Role]) -> Subquery:
    """The territories where `account_id` holds one of `roles` by a membership not left."""
    return Subquery(
        Member.filter(account_id=account_id, role__in=list(roles), left_at__isnull=True).values("territory_id")
    )


def seen_ids(models: dict[str, type[Model]], kind: str, account_id: int) -> Subquery:
    """The ids of the rows of `kind` that exist and that the reader `account_id` may see (the
    rule of `reads.nodes.sees`, in SQL), for a listing of rows pointing at them to keep."""
    return Subquery(models[kind].filter(~_hidden_rows(models, kind, account_id)).values("id"))


def seen_subjects(models: dict[str, type[Model]], account_id: int, kinds: tuple[str, ...]) -> Q:
    """Rows with (subject_type, subject_id) pointing at existing content of `kinds` that the
    reader `account_id` may see: what a listing of comments or follows keeps (a subject gone,
    hidden, or under hidden content takes the row out of the list, its count included)."""
    return Q(
        *(Q(subject_type=kind, subject_id__in=seen_ids(models, kind, account_id)) for kind in kinds),
        join_type=Q.OR,
    )
