"""A territory's stats are counters the database keeps as rows are written (models/stats.py):
after any mix of writes they equal the figures counted again from the rows, they cost one
statement whatever the territory's size, and an answer showing them can be cached until a
write or the next instant a figure moves with the clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
from typing import Any

from tortoise import Tortoise

from models import comments as mc
from models import ideas as mi
from models import polls as mp
from models import questions as mq
from models import territories as mt
from models.stats import RECOUNT
from tests.factories import make_person
from tests.ideas.stories import proposed, set_status, support, withdraw
from tests.news.stories import comment
from tests.polls.stories import created, move_in_time, option_ids, town, voted
from tests.questions.stories import age_question, asked, close, reply
from tests.test_query_count import count_queries

STATS = """
query Stats($slug: String!) {
  territory(slug: $slug) {
    stats {
      participants reach questionsAsked questionsAnswered questionsOverdue onTimeReplyRate
      medianReplySeconds ideasProposed ideasRealized pollsHeld votesCast
    }
  }
}
"""


async def counted_again(territory_id: int) -> dict[str, Any]:
    """The figures counted from the rows, as Parvis computed them before the counters."""
    now = dt.datetime.now(dt.UTC)
    territory = await mt.Territory.get(id=territory_id)
    people: set[int] = set()
    people.update(await mq.Question.filter(territory_id=territory_id).values_list("author_id", flat=True))
    people.update(await mi.Idea.filter(territory_id=territory_id).values_list("author_id", flat=True))
    people.update(await mi.Support.filter(idea__territory_id=territory_id).values_list("member_id", flat=True))
    people.update(
        await mp.PollParticipation.filter(poll__territory_id=territory_id).values_list("member_id", flat=True)
    )
    people.update(await mc.Comment.filter(territory_id=territory_id).values_list("author_id", flat=True))
    replies: list[Any] = await mq.Reply.filter(territory_id=territory_id).values_list("on_time", "reply_seconds")
    questions = mq.Question.filter(territory_id=territory_id)
    ideas = mi.Idea.filter(territory_id=territory_id)
    polls = mp.Poll.filter(territory_id=territory_id, opens_at__lte=now)
    return {
        "participants": len(people),
        "reach": len(people) / territory.population if territory.population else None,
        "questionsAsked": await questions.count(),
        "questionsAnswered": await questions.filter(status=mq.QuestionStatus.ANSWERED).count(),
        "questionsOverdue": await questions.filter(status=mq.QuestionStatus.OPEN, due_at__lt=now).count(),
        "onTimeReplyRate": sum(1 for on_time, _ in replies if on_time) / len(replies) if replies else None,
        "medianReplySeconds": int(statistics.median(s for _, s in replies)) if replies else None,
        "ideasProposed": await ideas.count(),
        "ideasRealized": await ideas.filter(status=mi.IdeaStatus.REALIZED).count(),
        "pollsHeld": await polls.count(),
        "votesCast": sum(await mp.Poll.filter(territory_id=territory_id).values_list("total_votes", flat=True)),
    }


async def stats(gql: Any, territory: mt.Territory) -> dict[str, Any]:
    return (await gql(STATS, {"slug": territory.slug}))["data"]["territory"]["stats"]  # type: ignore[no-any-return]


async def a_busy_month(gql: Any) -> tuple[Any, Any]:
    """Two territories; in the first, every kind of write the counters follow, some undone."""
    t = await town()
    elsewhere = await town()
    first = await asked(gql, t.alice.token, t.territory)
    second = await asked(gql, t.bob.token, t.territory)
    third = await asked(gql, t.vera.token, t.territory)
    late = await asked(gql, t.alice.token, t.territory)
    await age_question(first["id"], asked_ago=dt.timedelta(days=9), due_in=-dt.timedelta(days=2))
    await age_question(late["id"], asked_ago=dt.timedelta(days=20), due_in=-dt.timedelta(days=5))
    await age_question(third["id"], asked_ago=dt.timedelta(days=1), due_in=dt.timedelta(days=3))
    await reply(gql, t.odile.token, first["id"])
    await reply(gql, t.odile.token, second["id"])
    await close(gql, t.mona.token, third["id"])
    idea = await proposed(gql, t.bob.token, t.territory)
    other = await proposed(gql, t.vera.token, t.territory)
    await support(gql, t.alice.token, idea["id"])
    await support(gql, t.mona.token, other["id"])
    await withdraw(gql, t.mona.token, other["id"])  # mona took part only by this support: no longer
    for status in ("UNDER_REVIEW", "ACCEPTED", "IN_PROGRESS", "REALIZED"):
        await set_status(gql, t.odile.token, idea["id"], status)
    await comment(gql, t.adam.token, idea["id"])
    poll = await created(gql, t.odile.token, t.gid)
    later = await created(gql, t.odile.token, t.gid)
    await move_in_time(later["id"], opens_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
                       closes_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=9))
    for person in (t.alice, t.bob, t.vera):
        await voted(gql, person.token, poll["id"], option_ids(poll)[0])
    await asked(gql, elsewhere.alice.token, elsewhere.territory)
    return t, elsewhere


async def test_the_counters_equal_the_figures_counted_from_the_rows(gql: Any) -> None:
    t, elsewhere = await a_busy_month(gql)
    for territory in (t.territory, elsewhere.territory):
        assert await stats(gql, territory) == await counted_again(territory.id)
    figures = await stats(gql, t.territory)
    # The month as told above, so the comparison is not between two empty answers.
    assert (figures["questionsAsked"], figures["questionsAnswered"], figures["questionsOverdue"]) == (4, 2, 1)
    assert (figures["ideasProposed"], figures["ideasRealized"], figures["pollsHeld"]) == (2, 1, 1)
    assert figures["votesCast"] == 3
    assert figures["participants"] == 4  # alice, bob, vera, adam; not mona (support withdrawn) nor odile


async def test_counting_again_from_the_rows_changes_nothing(gql: Any) -> None:
    """RECOUNT is what the migration runs on a database that predates the counters."""
    t, _ = await a_busy_month(gql)
    before = await stats(gql, t.territory)
    connection = Tortoise.get_connection("default")
    for statement in RECOUNT:
        await connection.execute_script(statement)
    assert await stats(gql, t.territory) == before


async def test_the_figures_cost_one_statement_whatever_the_size(gql: Any) -> None:
    async def statements_for_stats(territory: mt.Territory) -> list[str]:
        with count_queries() as counter:
            await stats(gql, territory)
        return [sql for sql in counter.queries if "territory_stats" in sql or '"question"' in sql]

    small = await town()
    await asked(gql, small.alice.token, small.territory)
    large = await town()
    for n in range(12):
        person = await make_person(f"p{n}", large.territory)
        question = await asked(gql, person.token, large.territory)
        await reply(gql, large.odile.token, question["id"])
    assert len(await statements_for_stats(small.territory)) == len(await statements_for_stats(large.territory)) == 1


async def test_a_stats_answer_is_reused_until_a_write_or_a_question_falls_due(gql: Any) -> None:
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    await age_question(question["id"], asked_ago=dt.timedelta(days=3), due_in=dt.timedelta(seconds=1.5))
    assert (await stats(gql, t.territory))["questionsOverdue"] == 0
    with count_queries() as counter:
        assert (await stats(gql, t.territory))["questionsOverdue"] == 0
    assert counter.queries == [], "the second read was not served again"
    # Nobody writes; the question falls due, and the answer with it.
    await asyncio.sleep(1.6)
    with count_queries() as counter:
        assert (await stats(gql, t.territory))["questionsOverdue"] == 1
    assert counter.queries
    # A write the figures count drops the answer at once.
    await asked(gql, t.bob.token, t.territory)
    assert (await stats(gql, t.territory))["questionsAsked"] == 2
