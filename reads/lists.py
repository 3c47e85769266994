"""A territory's hot lists (polls, ideas, questions) as fixed SQL.

These are what a home page asks on every visit. Each page is one statement that joins what
the page shows per item (an idea's author, a question's author, official and reply with its
official), built into the same Tortoise models select_related would give, so the API types'
`from_model*` constructors are shared with every other path. Filters mirror the ORM ones in
schema/territories.py (visibility: hidden rows for staff only; status; official; author,
project and creation times).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from models import accounts as ma
from models import ideas as mi
from models import polls as mp
from models import questions as mq
from reads import sql
from reads.paging import NEWEST_FIRST, OLDEST_FIRST, SortKey, SqlList


@functools.cache
def _idea_select() -> str:
    return (
        f"SELECT {sql.columns(mi.Idea, 'i', 'i_')}, {sql.columns(ma.Member, 'm', 'm_')}, "
        f"{sql.columns(ma.Account, 'a', 'a_')} FROM idea i "
        "JOIN member m ON m.id = i.author_id JOIN account a ON a.id = m.account_id"
    )


@functools.cache
def _question_select() -> str:
    return (
        f"SELECT {sql.columns(mq.Question, 'q', 'q_')}, {sql.columns(ma.Member, 'm', 'm_')}, "
        f"{sql.columns(ma.Account, 'a', 'a_')}, {sql.columns(ma.Member, 'om', 'om_')}, "
        f"{sql.columns(ma.Account, 'oa', 'oa_')} FROM question q "
        "JOIN member m ON m.id = q.author_id JOIN account a ON a.id = m.account_id "
        "LEFT JOIN member om ON om.id = q.official_id LEFT JOIN account oa ON oa.id = om.account_id"
    )


@functools.cache
def _poll_select() -> str:
    return f"SELECT {sql.columns(mp.Poll, 'p', 'p_')} FROM poll p"


def member_row(row: object, member: str, account: str) -> ma.Member:
    """A membership and its account from one row (columns prefixed `member` and `account`),
    as select_related("account") gives it."""
    found = sql.model_from_row(ma.Member, row, member)
    found._account = sql.model_from_row(ma.Account, row, account)
    return found


@dataclass(frozen=True)
class Narrowing:
    """The filters of a territory's questions or ideas beyond their status (hashable: part of
    a shared page's key, so a page of one filter is never served for another): the author (a
    member's pk), the project (ideas), and a range of creation times, `since` included,
    `until` excluded (aware datetimes, UTC)."""

    author: int | None = None
    project: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _narrowed(source: SqlList, narrowing: Narrowing) -> SqlList:
    alias = source.alias
    if narrowing.author is not None:
        source = source.narrowed(f'{alias}."author_id" = $1', narrowing.author)
    if narrowing.since is not None:
        source = source.narrowed(f'{alias}."created_at" >= $1', narrowing.since)
    if narrowing.until is not None:
        source = source.narrowed(f'{alias}."created_at" < $1', narrowing.until)
    return source


def ideas(territory_id: int, *, staff: bool, status: str | None, narrowing: Narrowing = Narrowing()) -> SqlList:
    source = SqlList(_idea_select(), "idea", "i", ('i."territory_id" = $1',), (territory_id,))
    if status is not None:
        source = source.narrowed('i."status" = $1', status)
    if narrowing.project is not None:
        source = source.narrowed('i."project_id" = $1', narrowing.project)
        if not staff:
            # A hidden project's ideas are not listed under it (Idea.project shows null for it).
            source = source.narrowed(
                'EXISTS (SELECT 1 FROM project p WHERE p."id" = i."project_id" AND p."hidden" = $1)', False
            )
    source = _narrowed(source, narrowing)
    if not staff:
        source = source.narrowed('i."hidden" = $1', False)
    return source


def idea_row(row: object) -> mi.Idea:
    idea = sql.model_from_row(mi.Idea, row, "i_")
    idea._author = member_row(row, "m_", "a_")
    return idea


def questions(territory_id: int, *, staff: bool, status: str | None, official_id: int | None,
              narrowing: Narrowing = Narrowing()) -> SqlList:
    source = SqlList(_question_select(), "question", "q", ('q."territory_id" = $1',), (territory_id,))
    if status is not None:
        source = source.narrowed('q."status" = $1', status)
    if official_id is not None:
        source = source.narrowed('q."official_id" = $1', official_id)
    source = _narrowed(source, narrowing)
    if not staff:
        source = source.narrowed('q."hidden" = $1', False)
    return source


def question_order(name: str) -> tuple[tuple[SortKey, ...], str | None]:
    """The sort keys of a QuestionOrder and the tag its cursors carry (NEWEST's cursors stay
    untagged: those clients held before there were orders remain valid).

    MOST_OVERDUE: open questions first, the earliest due (the longest overdue) first, to the
    second; then answered and closed ones by due date; ties oldest first."""
    if name == "OLDEST":
        return OLDEST_FIRST, "oldest"
    if name == "MOST_OVERDUE":
        due = (
            'CAST(FLOOR(EXTRACT(EPOCH FROM {alias}."due_at")) AS BIGINT)'
            if sql.postgres()
            else "CAST(strftime('%s', {alias}.\"due_at\") AS INTEGER)"
        )
        waiting = f"CASE WHEN {{alias}}.\"status\" = '{mq.QuestionStatus.OPEN.value}' THEN 0 ELSE 1 END"
        return (
            SortKey("settled", descending=False, expression=waiting),
            SortKey("due_second", descending=False, expression=due),
            SortKey("id", descending=False),
        ), "most_overdue"
    return NEWEST_FIRST, None


def question_row(row: object) -> mq.Question:
    question = sql.model_from_row(mq.Question, row, "q_")
    question._author = member_row(row, "m_", "a_")
    question._official = (
        member_row(row, "om_", "oa_") if row["om_id"] is not None else None  # type: ignore[index]
    )
    return question


def polls(territory_id: int, *, staff: bool, status: str | None, now: dt.datetime) -> SqlList:
    """Polls; `status` is OPEN, SCHEDULED or CLOSED as of `now` (schema.polls.poll_status)."""
    source = SqlList(_poll_select(), "poll", "p", ('p."territory_id" = $1',), (territory_id,))
    if status == "CLOSED":
        source = source.narrowed('(p."closed_at" IS NOT NULL OR p."closes_at" <= $1)', now)
    elif status is not None:
        source = source.narrowed('p."closed_at" IS NULL AND p."closes_at" > $1', now)
        compare = ">" if status == "SCHEDULED" else "<="
        source = source.narrowed(f'p."opens_at" {compare} $1', now)
    if not staff:
        source = source.narrowed('p."hidden" = $1', False)
    return source


def poll_row(row: object) -> mp.Poll:
    return sql.model_from_row(mp.Poll, row, "p_")


async def replies_of(question_ids: list[int]) -> list[mq.Reply]:
    """The replies to these questions, each with its official (and the official's account)."""
    rows = await sql.fetch(
        f"SELECT {sql.columns(mq.Reply, 'r', 'r_')}, {sql.columns(ma.Member, 'm', 'm_')}, "
        f"{sql.columns(ma.Account, 'a', 'a_')} FROM reply r "
        "JOIN member m ON m.id = r.official_id JOIN account a ON a.id = m.account_id "
        f"WHERE r.question_id IN ({sql.placeholders(len(question_ids))})",
        *question_ids,
    )
    replies = []
    for row in rows:
        reply = sql.model_from_row(mq.Reply, row, "r_")
        reply._official = member_row(row, "m_", "a_")
        replies.append(reply)
    return replies
