"""A territory's participation figures in one statement, whatever the territory's size.

The counters are kept by the database as rows are written (models/stats.py). Two figures move
with the clock alone: a question becomes overdue at its due date, a poll counts as held from
its opening. Each is its maintained total minus what lies in the near future (open questions
not yet due, polls not yet open), counted over an index, and an answer showing them is valid
until the next of those instants (sharing/horizon.py), so it can be cached like any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from models import clock
from reads import sql
from sharing.horizon import note_boundary

FIGURES = """
SELECT s.participants, s.questions_asked, s.questions_open, s.questions_answered, s.replies,
       s.replies_on_time, s.median_reply_seconds, s.ideas_proposed, s.ideas_realized, s.polls,
       s.votes_cast, t.population,
       (SELECT COUNT(*) FROM question q
         WHERE q.territory_id = $1 AND q.status = 'OPEN' AND q.due_at >= $2) AS not_yet_due,
       (SELECT MIN(q.due_at) FROM question q
         WHERE q.territory_id = $1 AND q.status = 'OPEN' AND q.due_at >= $2) AS next_due,
       (SELECT COUNT(*) FROM poll p WHERE p.territory_id = $1 AND p.opens_at > $2) AS not_yet_open,
       (SELECT MIN(p.opens_at) FROM poll p WHERE p.territory_id = $1 AND p.opens_at > $2) AS next_opening
FROM territory_stats s JOIN territory t ON t.id = s.territory_id
WHERE s.territory_id = $1
"""


@dataclass(frozen=True)
class Figures:
    participants: int
    reach: float | None
    questions_asked: int
    questions_answered: int
    questions_overdue: int
    on_time_reply_rate: float | None
    median_reply_seconds: int | None
    ideas_proposed: int
    ideas_realized: int
    polls_held: int
    votes_cast: int


def _instant(value: Any) -> dt.datetime | None:
    """A datetime read by MIN(): a datetime from asyncpg, an ISO string from SQLite."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


async def territory_figures(territory_id: int) -> Figures:
    now = clock.now()
    row = await sql.fetchrow(FIGURES, territory_id, now)
    if row is None:
        raise LookupError(f"no counters for territory {territory_id}")
    # The next question to become overdue, the next poll to open: the answer holds until then.
    for boundary in (_instant(row["next_due"]), _instant(row["next_opening"])):
        if boundary is not None:
            note_boundary(boundary)
    replies = row["replies"]
    return Figures(
        participants=row["participants"],
        reach=(row["participants"] / row["population"]) if row["population"] else None,
        questions_asked=row["questions_asked"],
        questions_answered=row["questions_answered"],
        questions_overdue=row["questions_open"] - row["not_yet_due"],
        on_time_reply_rate=(row["replies_on_time"] / replies) if replies else None,
        median_reply_seconds=row["median_reply_seconds"] if replies else None,
        ideas_proposed=row["ideas_proposed"],
        ideas_realized=row["ideas_realized"],
        polls_held=row["polls"] - row["not_yet_open"],
        votes_cast=row["votes_cast"],
    )
