"""A territory's participation figures, kept up to date by the database itself.

`territory_stats` holds one row of counters per territory and `participant` one row per
(territory, member) who took part, with how many contributions they made. Triggers on the
tables those figures count (question, reply, idea, support, comment, poll, poll_participation,
territory) move the counters in the same transaction as the write, on SQLite and PostgreSQL
alike, whatever wrote the row (a mutation, the demo seed, a migration, an operator's SQL), so
reading the figures is one row whatever the territory's size. What moves with the clock alone
(questions overdue, polls opened) is counted over the near future only (reads/stats.py).
Reasoning: docs/adr/0018-maintained-stats.md.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TerritoryCounters(Model):
    """The counters of one territory (created with it by a trigger)."""

    territory_id = fields.IntField(primary_key=True, generated=False)
    participants = fields.IntField(default=0)
    questions_asked = fields.IntField(default=0)
    questions_open = fields.IntField(default=0)
    questions_answered = fields.IntField(default=0)
    replies = fields.IntField(default=0)
    replies_on_time = fields.IntField(default=0)
    median_reply_seconds = fields.IntField(null=True)
    ideas_proposed = fields.IntField(default=0)
    ideas_realized = fields.IntField(default=0)
    polls = fields.IntField(default=0)
    votes_cast = fields.IntField(default=0)

    class Meta:
        table = "territory_stats"


class Participant(Model):
    """A member who asked, proposed, supported, voted or commented in a territory, and how
    many of those contributions exist (the row goes when the last one does)."""

    id = fields.IntField(primary_key=True)
    territory_id = fields.IntField()
    member_id = fields.IntField()
    contributions = fields.IntField(default=0)

    class Meta:
        table = "participant"
        unique_together = (("territory_id", "member_id"),)


COUNTERS = ("participants", "questions_asked", "questions_open", "questions_answered", "replies",
            "replies_on_time", "ideas_proposed", "ideas_realized", "polls", "votes_cast")
# Tortoise's defaults are applied by Python, not by the database: a row the database makes
# names every counter.
NEW_COUNTERS = f"INSERT INTO territory_stats (territory_id, {', '.join(COUNTERS)}) SELECT {{territory}}, " + ", ".join(
    "0" for _ in COUNTERS
)


# What each trigger does, as statements over NEW/OLD, shared by both dialects. -------------

def _bump(territory: str, **deltas: str) -> str:
    sets = ", ".join(f"{column} = {column} + ({delta})" for column, delta in deltas.items())
    return f"UPDATE territory_stats SET {sets} WHERE territory_id = {territory}"


def _took_part(territory: str, member: str) -> list[str]:
    return [
        "INSERT INTO participant (territory_id, member_id, contributions) "
        f"VALUES ({territory}, {member}, 1) ON CONFLICT (territory_id, member_id) "
        "DO UPDATE SET contributions = participant.contributions + 1",
        # Unconditional (a CASE, not a WHERE): the counters row is locked here, first, by every
        # contribution, so a vote locks it before the poll row like every other vote (a WHERE
        # that skipped it let a second-time voter lock the poll first: deadlocks on PostgreSQL).
        f"UPDATE territory_stats SET participants = participants + CASE WHEN (SELECT contributions "
        f"FROM participant WHERE territory_id = {territory} AND member_id = {member}) = 1 THEN 1 ELSE 0 END "
        f"WHERE territory_id = {territory}",
    ]


def _withdrew(territory: str, member: str) -> list[str]:
    return [
        "UPDATE participant SET contributions = contributions - 1 "
        f"WHERE territory_id = {territory} AND member_id = {member}",
        f"UPDATE territory_stats SET participants = participants - CASE WHEN (SELECT contributions "
        f"FROM participant WHERE territory_id = {territory} AND member_id = {member}) = 0 THEN 1 ELSE 0 END "
        f"WHERE territory_id = {territory}",
        f"DELETE FROM participant WHERE territory_id = {territory} AND member_id = {member} "
        "AND contributions <= 0",
    ]


def _is(expression: str) -> str:
    return f"CASE WHEN {expression} THEN 1 ELSE 0 END"


def _moved(condition: str) -> str:
    """+1 when the row now meets `condition` and did not, -1 the other way round."""
    return f"{_is('NEW.' + condition)} - {_is('OLD.' + condition)}"


def median_of_replies(territory: str) -> str:
    """The median reply time of a territory in whole seconds (rounded down, like int() of
    Python's statistics.median), in SQL both dialects run."""
    return (
        "(SELECT SUM(s) / COUNT(*) FROM (SELECT reply_seconds AS s, "
        "ROW_NUMBER() OVER (ORDER BY reply_seconds) AS r, COUNT(*) OVER () AS n "
        f"FROM reply WHERE territory_id = {territory}) AS ranked WHERE r IN ((n + 1) / 2, (n + 2) / 2))"
    )


SUPPORT_TERRITORY = "(SELECT territory_id FROM idea WHERE id = {row}.idea_id)"
BALLOT_TERRITORY = "(SELECT territory_id FROM poll WHERE id = {row}.poll_id)"

# (table, event, columns an UPDATE trigger watches, statements)
TRIGGERS: list[tuple[str, str, str, list[str]]] = [
    ("territory", "INSERT", "", [
        NEW_COUNTERS.format(territory="NEW.id") + " WHERE true ON CONFLICT (territory_id) DO NOTHING",
    ]),
    ("question", "INSERT", "", [
        _bump("NEW.territory_id", questions_asked="1", questions_open=_is("NEW.status = 'OPEN'"),
              questions_answered=_is("NEW.status = 'ANSWERED'")),
        *_took_part("NEW.territory_id", "NEW.author_id"),
    ]),
    ("question", "UPDATE", "status", [
        _bump("NEW.territory_id", questions_open=_moved("status = 'OPEN'"),
              questions_answered=_moved("status = 'ANSWERED'")),
    ]),
    ("reply", "INSERT", "", [
        _bump("NEW.territory_id", replies="1", replies_on_time=_is("NEW.on_time")),
        "UPDATE territory_stats SET median_reply_seconds = "
        f"{median_of_replies('NEW.territory_id')} WHERE territory_id = NEW.territory_id",
    ]),
    ("idea", "INSERT", "", [
        _bump("NEW.territory_id", ideas_proposed="1", ideas_realized=_is("NEW.status = 'REALIZED'")),
        *_took_part("NEW.territory_id", "NEW.author_id"),
    ]),
    ("idea", "UPDATE", "status", [
        _bump("NEW.territory_id", ideas_realized=_moved("status = 'REALIZED'")),
    ]),
    ("comment", "INSERT", "", _took_part("NEW.territory_id", "NEW.author_id")),
    ("comment", "DELETE", "", _withdrew("OLD.territory_id", "OLD.author_id")),
    ("support", "INSERT", "", _took_part(SUPPORT_TERRITORY.format(row="NEW"), "NEW.member_id")),
    ("support", "DELETE", "", _withdrew(SUPPORT_TERRITORY.format(row="OLD"), "OLD.member_id")),
    ("poll_participation", "INSERT", "", _took_part(BALLOT_TERRITORY.format(row="NEW"), "NEW.member_id")),
    ("poll_participation", "DELETE", "", _withdrew(BALLOT_TERRITORY.format(row="OLD"), "OLD.member_id")),
    ("poll", "INSERT", "", [_bump("NEW.territory_id", polls="1", votes_cast="NEW.total_votes")]),
    ("poll", "UPDATE", "total_votes", [_bump("NEW.territory_id", votes_cast="NEW.total_votes - OLD.total_votes")]),
]

# For sharing/stamp.py: a write to the key also writes these tables, through the triggers.
TRIGGERED_WRITES: dict[str, frozenset[str]] = {
    table: frozenset().union(*(
        {"territory_stats", "participant"} & {word for s in statements for word in s.split()}
        for named, _, _, statements in TRIGGERS if named == table
    ))
    for table, _, _, _ in TRIGGERS
}


def _name(table: str, event: str) -> str:
    return f"parvis_stats_{table}_{event.lower()}"


def create_triggers(dialect: str) -> list[str]:
    """The DDL creating every trigger, for "sqlite" or "postgres"."""
    ddl = []
    for table, event, columns, statements in TRIGGERS:
        name = _name(table, event)
        on = f"AFTER {event}{f' OF {columns}' if columns else ''} ON {table}"
        if dialect == "postgres":
            body = "".join(f"{statement};\n" for statement in statements)
            ddl.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                f"{body}RETURN NULL;\nEND\n$$"
            )
            ddl.append(f"CREATE TRIGGER {name} {on} FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            body = "".join(f"{statement};\n" for statement in statements)
            ddl.append(f"CREATE TRIGGER {name} {on} FOR EACH ROW BEGIN\n{body}END")
    return ddl


def drop_triggers(dialect: str) -> list[str]:
    ddl = []
    for table, event, _, _ in TRIGGERS:
        name = _name(table, event)
        ddl.append(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgres" else ""))
        if dialect == "postgres":
            ddl.append(f"DROP FUNCTION IF EXISTS {name}()")
    return ddl


# Counting everything again: the backfill of a database that predates the triggers, and the
# reference the tests compare the counters with. -------------------------------------------

CONTRIBUTIONS = (
    "SELECT territory_id AS t, author_id AS m FROM question "
    "UNION ALL SELECT territory_id, author_id FROM idea "
    "UNION ALL SELECT territory_id, author_id FROM comment "
    "UNION ALL SELECT i.territory_id, s.member_id FROM support s JOIN idea i ON i.id = s.idea_id "
    "UNION ALL SELECT p.territory_id, b.member_id FROM poll_participation b JOIN poll p ON p.id = b.poll_id"
)


def _count(table: str, condition: str = "") -> str:
    where = f" AND {condition}" if condition else ""
    return f"(SELECT COUNT(*) FROM {table} WHERE territory_id = territory_stats.territory_id{where})"


OPEN, ANSWERED, REALIZED = "status = 'OPEN'", "status = 'ANSWERED'", "status = 'REALIZED'"

RECOUNT = [
    "DELETE FROM participant",
    "DELETE FROM territory_stats",
    NEW_COUNTERS.format(territory="id") + " FROM territory",
    "INSERT INTO participant (territory_id, member_id, contributions) "
    f"SELECT t, m, COUNT(*) FROM ({CONTRIBUTIONS}) AS c GROUP BY t, m",
    "UPDATE territory_stats SET "
    f"participants = {_count('participant')}, "
    f"questions_asked = {_count('question')}, "
    f"questions_open = {_count('question', OPEN)}, "
    f"questions_answered = {_count('question', ANSWERED)}, "
    f"replies = {_count('reply')}, "
    f"replies_on_time = {_count('reply', 'on_time')}, "
    f"median_reply_seconds = {median_of_replies('territory_stats.territory_id')}, "
    f"ideas_proposed = {_count('idea')}, "
    f"ideas_realized = {_count('idea', REALIZED)}, "
    f"polls = {_count('poll')}, "
    "votes_cast = (SELECT COALESCE(SUM(total_votes), 0) FROM poll "
    "WHERE territory_id = territory_stats.territory_id)",
]
