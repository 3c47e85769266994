"""Per-request DataLoaders: a page of N items costs a constant number of queries.

One set per request (or per subscription event, or per shared part): never reused across
them, so what a viewer reads is never older than their request.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from models.accounts import Account, Member
from models.clock import now
from models.comments import Comment
from models.consultations import ConsultationPhase, Outcome, OutcomeItem, PhaseItem
from models.polls import PollOption
from models.projects import Document, DocumentVersion
from models.questions import Question, QuestionStatus, Reply
from models.surveys import Survey, SurveyQuestion
from reads import sql
from reads.lists import member_row
from sharing.horizon import not_reusable

M = TypeVar("M", bound=Model)


def _by_id(model: type[M], *related: str) -> DataLoader[int, M | None]:
    async def load(keys: Sequence[int]) -> list[M | None]:
        query = model.filter(id__in=list(keys))
        if related:
            query = query.select_related(*related)
        found = {row.pk: row for row in await query}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _grouped(
    model: type[M], key_field: str, order: str = "id", **filters: Any
) -> DataLoader[int, list[M]]:
    async def load(keys: Sequence[int]) -> list[list[M]]:
        groups: dict[int, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{key_field}__in": list(keys)}, **filters).order_by(order):
            groups[getattr(row, key_field)].append(row)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def _present(row: M | None, model: type[M], pk: int) -> M:
    if row is None:
        raise LookupError(f"{model.__name__} {pk} is referenced but gone")
    return row


# The viewer's marks (Loaders.viewer_marks): per kind, the keys among `{keys}` the viewer's
# account ($1) has a row for. `{kind}` is one of these names, never input.
_MARKS = {
    "voted": "SELECT '{kind}', pp.poll_id FROM poll_participation pp JOIN member m ON m.id = pp.member_id "
    "WHERE m.account_id = $1 AND pp.poll_id IN ({keys})",
    "supports": "SELECT '{kind}', s.idea_id FROM support s JOIN member m ON m.id = s.member_id "
    "WHERE m.account_id = $1 AND s.idea_id IN ({keys})",
    "submitted": "SELECT '{kind}', sp.survey_id FROM survey_participation sp JOIN member m ON m.id = sp.member_id "
    "WHERE m.account_id = $1 AND sp.survey_id IN ({keys})",
}


@dataclass(frozen=True)
class ViewerMarks:
    """One kind of the viewer's marks, loaded through the shared loader."""

    loader: DataLoader[tuple[str, int], bool]
    kind: str

    # The loader's own futures, not coroutines around them: an extra step would move when a
    # page's other loads are issued, and so how they are batched.
    def load(self, pk: int) -> Awaitable[bool]:
        return self.loader.load((self.kind, pk))

    def load_many(self, pks: Sequence[int]) -> Awaitable[list[bool]]:
        return self.loader.load_many([(self.kind, pk) for pk in pks])


class Loaders:
    """The loaders of one request (or of one subscription event: never reuse across events)."""

    def __init__(self, viewer_account_id: int | None) -> None:
        self._viewer = viewer_account_id
        self._by_model: dict[type[Model], DataLoader[int, Any]] = {}
        # Whether a territory requires a verified email to write, when a statement of this
        # request already read it (the ballot box does): no query for it then.
        self.email_required: dict[int, bool] = {}

    # Each loader is made the first time the request asks for it (most requests ask for few).
    @cached_property
    def member(self) -> DataLoader[int, Member | None]:
        return _by_id(Member, "account")

    @cached_property
    def options_by_poll(self) -> DataLoader[int, list[PollOption]]:
        return _grouped(PollOption, "poll_id", "position")

    @cached_property
    def documents_by_project(self) -> DataLoader[int, list[Document]]:
        return _grouped(Document, "project_id")

    @cached_property
    def versions_by_document(self) -> DataLoader[int, list[DocumentVersion]]:
        return _grouped(DocumentVersion, "document_id", "number")

    @cached_property
    def reply_by_question(self) -> DataLoader[int, Reply | None]:
        return DataLoader(load_fn=self._replies)

    # Consultations (schema/consultations/types.py): a page of phases and their items costs one
    # statement per kind, whatever the number of phases.
    @cached_property
    def phases_by_consultation(self) -> DataLoader[int, list[ConsultationPhase]]:
        return _grouped(ConsultationPhase, "consultation_id", "starts_at")

    @cached_property
    def documents_by_phase(self) -> DataLoader[int, list[Document]]:
        return _grouped(Document, "phase_id")

    @cached_property
    def surveys_by_phase(self) -> DataLoader[int, list[Survey]]:
        return _grouped(Survey, "phase_id", "-id")

    @cached_property
    def items_by_phase(self) -> DataLoader[int, list[PhaseItem]]:
        return _grouped(PhaseItem, "phase_id")

    @cached_property
    def outcome_by_phase(self) -> DataLoader[int, Outcome | None]:
        return DataLoader(load_fn=self._outcomes)

    @cached_property
    def items_by_outcome(self) -> DataLoader[int, list[OutcomeItem]]:
        return _grouped(OutcomeItem, "outcome_id")

    @cached_property
    def outcomes_of_subject(self) -> DataLoader[tuple[str, int], list[Outcome]]:
        return DataLoader(load_fn=self._outcomes_of)

    @cached_property
    def membership(self) -> DataLoader[int, Member | None]:
        return DataLoader(load_fn=self._memberships)

    @cached_property
    def viewer_voted(self) -> ViewerMarks:
        return ViewerMarks(self.viewer_marks, "voted")

    @cached_property
    def viewer_supports(self) -> ViewerMarks:
        return ViewerMarks(self.viewer_marks, "supports")

    @cached_property
    def viewer_marks(self) -> DataLoader[tuple[str, int], bool]:
        """Whether the viewer voted in a poll, supports an idea, submitted a survey: keyed
        (kind, pk), every kind a page asks in the same tick read by ONE statement."""
        return DataLoader(load_fn=self._marks)

    @cached_property
    def comment_count(self) -> DataLoader[tuple[str, int], int]:
        return DataLoader(load_fn=self._comment_counts)

    @cached_property
    def official_stats(self) -> DataLoader[int, OfficialStats]:
        return DataLoader(load_fn=self._official_stats)

    @cached_property
    def poll_tallies(self) -> DataLoader[int, PollTally]:
        return DataLoader(load_fn=self._poll_tallies)

    @cached_property
    def questions_by_survey(self) -> DataLoader[int, list[SurveyQuestion]]:
        return _grouped(SurveyQuestion, "survey_id", "position")

    @cached_property
    def viewer_submitted(self) -> ViewerMarks:
        return ViewerMarks(self.viewer_marks, "submitted")

    async def member_of(self, pk: int) -> Member:
        """The member a foreign key names (with its account): it exists."""
        return _present(await self.member.load(pk), Member, pk)

    async def row_of(self, model: type[M], pk: int) -> M:
        """The row a foreign key names: it exists."""
        return _present(await self.by_id(model).load(pk), model, pk)

    def by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        loader = self._by_model.get(model)
        if loader is None:
            loader = self._by_model[model] = _by_id(model)
        return loader

    async def _replies(self, question_ids: Sequence[int]) -> list[Reply | None]:
        found = {r.question_id: r for r in await Reply.filter(question_id__in=list(question_ids))}
        return [found.get(key) for key in question_ids]

    async def _outcomes(self, phase_ids: Sequence[int]) -> list[Outcome | None]:
        found = {o.phase_id: o for o in await Outcome.filter(phase_id__in=list(phase_ids))}
        return [found.get(key) for key in phase_ids]

    async def _outcomes_of(self, subjects: Sequence[tuple[str, int]]) -> list[list[Outcome]]:
        """The outcomes answering each (subject_type, subject_id), oldest first."""
        by_type: dict[str, list[int]] = defaultdict(list)
        for kind, pk in subjects:
            by_type[kind].append(pk)
        links: dict[tuple[str, int], list[int]] = defaultdict(list)
        for kind, pks in by_type.items():
            for item in await OutcomeItem.filter(subject_type=kind, subject_id__in=pks).order_by("id"):
                links[(kind, item.subject_id)].append(item.outcome_id)
        outcome_ids = sorted({pk for pks in links.values() for pk in pks})
        rows = self.by_id(Outcome)
        outcomes = await rows.load_many(outcome_ids) if outcome_ids else []
        found = {o.id: o for o in outcomes if o is not None}
        return [[found[pk] for pk in links.get(key, []) if pk in found] for key in subjects]

    async def _memberships(self, territory_ids: Sequence[int]) -> list[Member | None]:
        """The viewer's membership of each territory, or None (also once they left it)."""
        if self._viewer is None:
            return [None] * len(territory_ids)
        keys = list(territory_ids)
        rows = await sql.fetch(
            f"SELECT {sql.columns(Member, 'm', 'm_')}, {sql.columns(Account, 'a', 'a_')} "
            "FROM member m JOIN account a ON a.id = m.account_id "
            "WHERE m.left_at IS NULL AND m.account_id = $1 "
            f"AND m.territory_id IN ({sql.placeholders(len(keys), 2)})",
            self._viewer, *keys,
        )
        found: dict[int, Member] = {}
        for row in rows:
            member = member_row(row, "m_", "a_")
            found[member.territory_id] = member
        return [found.get(key) for key in keys]

    async def _marks(self, keys: Sequence[tuple[str, int]]) -> list[bool]:
        if self._viewer is None:
            return [False] * len(keys)
        by_kind: dict[str, list[int]] = defaultdict(list)
        for kind, pk in keys:
            by_kind[kind].append(pk)
        selects, args = [], [self._viewer]
        for kind, pks in by_kind.items():
            selects.append(_MARKS[kind].format(kind=kind, keys=sql.placeholders(len(pks), len(args) + 1)))
            args.extend(pks)
        rows = await sql.fetch(" UNION ALL ".join(selects), *args)
        found = {(row[0], row[1]) for row in rows}
        return [key in found for key in keys]

    async def _comment_counts(self, subjects: Sequence[tuple[str, int]]) -> list[int]:
        """Visible comments per (subject_type, subject_id)."""
        by_type: dict[str, list[int]] = defaultdict(list)
        for kind, pk in subjects:
            by_type[kind].append(pk)
        counts: dict[tuple[str, int], int] = defaultdict(int)
        for kind, pks in by_type.items():
            rows: list[Any] = await Comment.filter(
                subject_type=kind, subject_id__in=pks, hidden=False
            ).values_list("subject_id", flat=True)
            for subject_id in rows:
                counts[(kind, subject_id)] += 1
        return [counts[key] for key in subjects]

    async def _official_stats(self, member_ids: Sequence[int]) -> list[OfficialStats]:
        # The overdue count moves with the clock: an answer showing it is not cached.
        not_reusable()
        keys = list(member_ids)
        seconds: dict[int, list[int]] = defaultdict(list)
        replies: list[Any] = await Reply.filter(official_id__in=keys).values_list("official_id", "reply_seconds")
        for official_id, took in replies:
            seconds[official_id].append(took)
        overdue: dict[int, int] = defaultdict(int)
        late: list[Any] = await Question.filter(
            official_id__in=keys, status=QuestionStatus.OPEN, due_at__lt=now()
        ).values_list("official_id", flat=True)
        for addressed in late:
            overdue[addressed] += 1
        return [
            OfficialStats(
                replies=len(seconds[key]),
                overdue=overdue[key],
                median_reply_seconds=median_seconds(seconds[key]),
            )
            for key in keys
        ]

    async def _poll_tallies(self, poll_ids: Sequence[int]) -> list[PollTally]:
        """Each poll's ballots and option counters, read in ONE statement (a join), so a
        reader never sees a total from before a vote beside counters from after it."""
        groups: dict[int, list[PollOption]] = defaultdict(list)
        totals: dict[int, int] = {}
        counted: dict[int, int] = {}
        keys = list(poll_ids)
        rows = await sql.fetch(
            f"SELECT {sql.columns(PollOption, 'o', 'o_')}, p.total_votes AS p_total_votes, "
            "p.counted_votes AS p_counted_votes "
            "FROM poll_option o JOIN poll p ON p.id = o.poll_id "
            f"WHERE o.poll_id IN ({sql.placeholders(len(keys))}) ORDER BY o.poll_id, o.position",
            *keys,
        )
        for row in rows:
            option = sql.model_from_row(PollOption, row, "o_")
            groups[option.poll_id].append(option)
            totals[option.poll_id] = row["p_total_votes"]
            counted[option.poll_id] = row["p_counted_votes"]
        return [PollTally(totals.get(key, 0), groups.get(key, []), counted.get(key, 0)) for key in poll_ids]


@dataclass(frozen=True)
class OfficialStats:
    replies: int
    overdue: int
    median_reply_seconds: int | None


def median_seconds(values: list[int]) -> int | None:
    return int(statistics.median(values)) if values else None


@dataclass(frozen=True)
class PollTally:
    """A poll's ballots cast and its options (with their vote counters), from one snapshot.
    The counters hold `counted_votes` ballots; the others are still sealed (docs/adr/0009)."""

    total_votes: int
    options: list[PollOption]
    counted_votes: int
