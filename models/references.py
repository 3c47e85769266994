"""Human references of questions and ideas (`Q-2026-0042`), for phone support and deep links.

A reference is the kind's letter, the year the item was written and its rank among that
territory's items of that kind and year: one counter row per (territory, kind, year), moved
by an UPDATE that locks it, so concurrent writes in one territory each take the next number
(PostgreSQL queues them behind the row lock; SQLite serializes writers). A number once
taken is never given again, even when the item is later deleted: a reference is stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from tortoise import fields
from tortoise.expressions import F
from tortoise.models import Model

from models import clock

# The letter of each kind's references.
PREFIXES = {"Question": "Q", "Idea": "I"}


class ReferenceCounter(Model):
    id = fields.IntField(primary_key=True)
    territory_id = fields.IntField()
    kind = fields.CharField(max_length=16)
    year = fields.IntField()
    taken = fields.IntField(default=0)

    class Meta:
        table = "reference_counter"
        unique_together = (("territory_id", "kind", "year"),)


# The section of the app's paths where each kind lives.
SECTIONS = {"Question": "questions", "Idea": "ideas"}


def content_path(territory_slug: str, kind: str, reference: str) -> str:
    """The canonical path of a question or an idea for deep links (API `url`, emails):
    `/t/<territory slug>/<section>/<reference>`, e.g. `/t/lyon/questions/Q-2026-0042`."""
    return f"/t/{territory_slug}/{SECTIONS[kind]}/{reference}"


def format_reference(kind: str, year: int, number: int) -> str:
    return f"{PREFIXES[kind]}-{year}-{number:04d}"


class Referenced(Model):
    """A model whose rows take a reference when first saved (`create`, factories, the demo)."""

    reference_kind = ""

    async def save(
        self,
        using_db: Any = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        if not self._saved_in_db and getattr(self, "reference", None) is None:
            db = using_db or self._choose_db(True)
            if getattr(self, "created_at", None) is None:
                setattr(self, "created_at", clock.now())  # noqa: B010 (a field of the concrete model)
            reference = await next_reference(
                self.reference_kind, getattr(self, "territory_id"), getattr(self, "created_at"), db  # noqa: B009
            )
            setattr(self, "reference", reference)  # noqa: B010
        await super().save(using_db, update_fields, force_create, force_update)

    class Meta:
        abstract = True


async def reserve(kind: str, territory_id: int, year: int, count: int, db: Any = None) -> list[str]:
    """The next `count` references of `kind` in the territory for `year`, taken in the
    caller's transaction (`db`; the default connection otherwise)."""
    key = {"territory_id": territory_id, "kind": kind, "year": year}
    await ReferenceCounter.get_or_create(defaults={"taken": 0}, using_db=db, **key)
    await ReferenceCounter.filter(**key).using_db(db).update(taken=F("taken") + count)
    row = await ReferenceCounter.filter(**key).using_db(db).get()
    return [format_reference(kind, year, number) for number in range(row.taken - count + 1, row.taken + 1)]


async def next_reference(kind: str, territory_id: int, written: dt.datetime, db: Any) -> str:
    """The next reference of `kind` in the territory for the year of `written`."""
    [reference] = await reserve(kind, territory_id, written.year, 1, db)
    return reference


async def give_references(rows: Sequence[Any]) -> None:
    """References for rows about to be bulk inserted (bulk_create skips `save`), in their
    order: the demo writes its history oldest first."""
    groups: dict[tuple[str, int, int], list[Any]] = {}
    for row in rows:
        if getattr(row, "reference", None) is None:
            kind = row.reference_kind
            groups.setdefault((kind, row.territory_id, row.created_at.year), []).append(row)
    for (kind, territory_id, year), group in groups.items():
        for row, reference in zip(group, await reserve(kind, territory_id, year, len(group)), strict=True):
            row.reference = reference
