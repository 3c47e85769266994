"""The charter's promise: overdue questions, on-time replies, and the figures built on them."""

from __future__ import annotations

import datetime as dt

import pytest

from models.accounts import Role
from models.questions import Reply as ReplyRow
from tests.factories import make_person, make_territory
from tests.questions.stories import (
    DAY,
    NODE,
    OFFICIAL,
    STATS,
    age_question,
    asked,
    close,
    pk_of,
    reply,
)

SLACK = 30  # seconds a test may take between ageing a question and replying to it


async def stats_of(gql, territory):
    result = await gql(STATS, {"slug": territory.slug})
    return result["data"]["territory"]["stats"]


async def official_figures(gql, persona):
    result = await gql(OFFICIAL, {"id": persona.member_gid})
    return result["data"]["node"]


async def test_a_question_past_its_due_date_is_overdue_until_answered(gql):
    # Given a 3-day promise and alice's question to odile, asked 10 days ago
    territory = await make_territory(reply_deadline_days=3)
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    question = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    await age_question(question["id"], asked_ago=dt.timedelta(days=10), due_in=-dt.timedelta(days=7))

    # Then it is overdue, for the territory and for odile
    node = (await gql(NODE, {"id": question["id"]}))["data"]["node"]
    assert node["overdue"] is True
    assert node["status"] == "OPEN"
    assert (await stats_of(gql, territory))["questionsOverdue"] == 1
    figures = await official_figures(gql, odile)
    assert figures["overdueCount"] == 1
    assert figures["repliesCount"] == 0
    assert figures["medianReplySeconds"] is None
    assert [e["node"]["overdue"] for e in figures["questions"]["edges"]] == [True]

    # When odile replies at last
    payload = (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]
    assert payload["userErrors"] == []

    # Then the reply counts as late, took about 10 days, and nothing is overdue any more
    assert payload["reply"]["question"]["overdue"] is False
    row = await ReplyRow.get(id=pk_of(payload["reply"]["id"], "Reply"))
    assert row.on_time is False
    assert 10 * DAY <= row.reply_seconds <= 10 * DAY + SLACK
    stats = await stats_of(gql, territory)
    assert stats["questionsOverdue"] == 0
    assert stats["questionsAnswered"] == 1
    assert stats["onTimeReplyRate"] == 0.0
    assert 10 * DAY <= stats["medianReplySeconds"] <= 10 * DAY + SLACK
    figures = await official_figures(gql, odile)
    assert figures["overdueCount"] == 0
    assert figures["repliesCount"] == 1


async def test_a_reply_just_before_the_due_date_is_on_time(gql):
    territory = await make_territory(reply_deadline_days=3)
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    question = await asked(gql, alice.token, territory)
    await age_question(
        question["id"], asked_ago=dt.timedelta(days=3, minutes=-5), due_in=dt.timedelta(minutes=5)
    )

    payload = (await reply(gql, odile.token, question["id"]))["data"]["replyToQuestion"]

    row = await ReplyRow.get(id=pk_of(payload["reply"]["id"], "Reply"))
    assert row.on_time is True


async def test_closed_and_young_questions_are_not_overdue(gql):
    territory = await make_territory(reply_deadline_days=3)
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    young = await asked(gql, alice.token, territory)
    closed = await asked(gql, alice.token, territory)
    await age_question(closed["id"], asked_ago=dt.timedelta(days=10), due_in=-dt.timedelta(days=7))
    assert (await close(gql, mona.token, closed["id"]))["data"]["closeQuestion"]["userErrors"] == []

    for question in (young, closed):
        assert (await gql(NODE, {"id": question["id"]}))["data"]["node"]["overdue"] is False
    stats = await stats_of(gql, territory)
    assert stats["questionsOverdue"] == 0
    assert stats["questionsAsked"] == 2
    assert stats["questionsAnswered"] == 0


async def test_a_territory_without_replies_has_no_rate_nor_median(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    await asked(gql, alice.token, territory)

    stats = await stats_of(gql, territory)

    assert stats == {
        "questionsAsked": 1,
        "questionsAnswered": 0,
        "questionsOverdue": 0,
        "onTimeReplyRate": None,
        "medianReplySeconds": None,
    }


async def test_how_the_territory_and_each_official_keep_the_charter(gql):
    # Given a 3-day promise, odile and olga, and four of alice's questions:
    territory = await make_territory(reply_deadline_days=3)
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    olga = await make_person("olga", territory, role=Role.OFFICIAL, title="Deputy mayor")
    quick = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    late = await asked(gql, alice.token, territory, official_id=odile.member_gid)
    steady = await asked(gql, alice.token, territory)
    forgotten = await asked(gql, alice.token, territory, official_id=olga.member_gid)
    # asked 1 hour, 10 days, 2 days and 5 days ago
    await age_question(quick["id"], asked_ago=dt.timedelta(hours=1), due_in=dt.timedelta(days=3, hours=-1))
    await age_question(late["id"], asked_ago=dt.timedelta(days=10), due_in=-dt.timedelta(days=7))
    await age_question(steady["id"], asked_ago=dt.timedelta(days=2), due_in=dt.timedelta(days=1))
    await age_question(forgotten["id"], asked_ago=dt.timedelta(days=5), due_in=-dt.timedelta(days=2))

    # When odile answers her two and olga the one addressed to the territory
    for persona, question in ((odile, quick), (odile, late), (olga, steady)):
        payload = (await reply(gql, persona.token, question["id"]))["data"]["replyToQuestion"]
        assert payload["userErrors"] == []

    # Then two of three replies were on time, the median took 2 days, one question is overdue
    stats = await stats_of(gql, territory)
    assert stats["questionsAsked"] == 4
    assert stats["questionsAnswered"] == 3
    assert stats["questionsOverdue"] == 1
    assert stats["onTimeReplyRate"] == pytest.approx(2 / 3)
    assert 2 * DAY <= stats["medianReplySeconds"] <= 2 * DAY + SLACK

    # And each official's figures are their own
    odile_figures = await official_figures(gql, odile)
    assert odile_figures["repliesCount"] == 2
    assert odile_figures["overdueCount"] == 0
    # the median of 1 hour and 10 days
    expected = (3600 + 10 * DAY) // 2
    assert expected <= odile_figures["medianReplySeconds"] <= expected + SLACK
    olga_figures = await official_figures(gql, olga)
    assert olga_figures["repliesCount"] == 1
    assert olga_figures["overdueCount"] == 1
    assert 2 * DAY <= olga_figures["medianReplySeconds"] <= 2 * DAY + SLACK
    assert [e["node"]["id"] for e in olga_figures["questions"]["edges"]] == [forgotten["id"]]
