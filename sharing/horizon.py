"""What an answer being computed for reuse depends on: the tables it reads, and the clock.

Some answers change with nobody writing anything: a poll's status turns OPEN at opensAt and
CLOSED at closesAt, a question becomes `overdue` at dueAt. While an answer or a shared part is
computed for reuse, every place that compares a row with the clock notes the next instant at
which that comparison would flip, and what is kept expires at the earliest of them; every
statement notes the tables it reads (sharing/stamp.py). Outside such a computation nothing is
noted. Reasoning: docs/adr/0006, docs/adr/0012.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextvars import ContextVar


class Horizon:
    """The earliest boundary noted so far (a POSIX timestamp, or None), and the tables read."""

    __slots__ = ("tables", "until")

    def __init__(self) -> None:
        self.until: float | None = None
        self.tables: set[str] = set()

    def note(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        at = when.timestamp()
        if self.until is None or at < self.until:
            self.until = at


# The mutable Horizon is shared by the tasks graphql-core and the DataLoaders spawn: they
# copy the context, hence the reference, at creation.
CURRENT: ContextVar[Horizon | None] = ContextVar("parvis_horizon", default=None)


def note_boundary(when: dt.datetime) -> None:
    """This answer is only valid before `when`."""
    horizon = CURRENT.get()
    if horizon is not None:
        horizon.note(when)


def note_tables(tables: Iterable[str]) -> None:
    """This answer read these tables."""
    horizon = CURRENT.get()
    if horizon is not None:
        horizon.tables.update(tables)


def recording() -> bool:
    """Whether an answer is being computed for the cache (worth an extra query to bound it)."""
    return CURRENT.get() is not None


def not_reusable() -> None:
    """This answer depends on the clock in a way not bounded here: never reuse it."""
    note_boundary(dt.datetime.fromtimestamp(0, dt.UTC))
