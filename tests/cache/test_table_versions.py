"""Shared answers depend on the tables they read (docs/adr/0012): what sharing/stamp.py reads
from a statement's text must cover what the database says the statement touches, or a write
would leave a stale page served. Checked for every statement the suite ran (this test runs
last), against PostgreSQL's plans or SQLite's authorizer, with foreign-key cascades."""

from __future__ import annotations

from typing import Any

import pytest

from sharing.stamp import EVERYTHING, LOCAL, is_write, read_tables, written_tables
from tests.factories import PASSWORD
from tests.ideas.stories import proposed, support, withdraw
from tests.news.stories import comment, moderate, publish, report
from tests.polls.stories import close as close_poll
from tests.polls.stories import created, option_ids, town, voted
from tests.questions.stories import asked, reply
from tests.statements import RECORDED, truth_for
from tests.test_query_count import HOME


def test_statements_name_their_tables() -> None:
    assert read_tables('SELECT "id" FROM "poll" p JOIN "poll_option" o ON o.poll_id = p.id') == {"poll", "poll_option"}
    assert read_tables('SELECT * FROM "public"."poll"') == {"poll"}
    assert read_tables("SELECT 1") == {EVERYTHING}
    # The stats triggers write territory_stats too (models/stats.py).
    assert written_tables('UPDATE "poll" SET "total_votes" = "total_votes" + 1') == {"poll", "territory_stats"}
    assert written_tables('UPDATE "news_post" SET "title" = $1') == {"news_post"}
    assert written_tables("WITH x AS (UPDATE poll_option SET votes = votes + 1 RETURNING poll_id) "
                          "INSERT INTO poll_participation (poll_id) SELECT poll_id FROM x") >= {
        "poll_option", "poll_participation"}
    assert written_tables('DELETE FROM "poll" WHERE "id" = $1') >= {"poll", "poll_option", "poll_participation"}
    # What the patterns cannot read counts as everything.
    assert written_tables("INSERT OR REPLACE INTO poll VALUES (1)") == {EVERYTHING}
    assert written_tables("ALTER TABLE poll ADD COLUMN x INT") == {EVERYTHING}
    assert is_write("WITH x AS (DELETE FROM support RETURNING 1) SELECT count(*) FROM x")
    assert not is_write("WITH x AS (SELECT 1) SELECT * FROM x")
    assert is_write("VACUUM")


async def test_a_write_moves_only_the_tables_it_changed(gql: Any) -> None:
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    before = dict(LOCAL.tables)
    epoch = LOCAL.epoch
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[0])
    moved = {table for table, version in LOCAL.tables.items() if version != before.get(table, 0)}
    assert LOCAL.epoch == epoch
    assert {"poll", "poll_option", "poll_participation"} <= moved
    assert not moved & {"question", "idea", "reply", "news_post", "territory", "account"}, moved


async def sweep(gql: Any) -> None:
    """One of each common write and read, so the check below has them even when run alone."""
    t = await town()
    question = await asked(gql, t.alice.token, t.territory)
    await reply(gql, t.odile.token, question["id"])
    idea = await proposed(gql, t.bob.token, t.territory)
    await support(gql, t.alice.token, idea["id"])
    await withdraw(gql, t.alice.token, idea["id"])
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.vera.token, poll["id"], option_ids(poll)[1])
    await close_poll(gql, t.odile.token, poll["id"])
    news = await publish(gql, t.odile.token, t.territory)
    said = await comment(gql, t.bob.token, news["id"])
    reported = await report(gql, t.alice.token, said["id"])
    await moderate(gql, t.mona.token, reported["id"], "HIDE")
    for token in (None, t.alice.token, t.mona.token):
        await gql(HOME, {"s": t.territory.slug, "n": 10}, token=token)
    await gql(f'mutation {{ deleteAccount(input: {{password: "{PASSWORD}"}}) }}', token=t.bob.token)


@pytest.mark.last
async def test_every_statement_names_what_it_touches(gql: Any, database_url: str) -> None:
    await sweep(gql)
    statements = dict(RECORDED)
    assert len(statements) > 50, "the suite's statements were not recorded"
    truth = await truth_for(database_url)
    wrong: list[str] = []
    try:
        for sql, values in statements.items():
            if not sql.lstrip(" (").upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")):
                continue
            if "information_schema" in sql or "pg_catalog" in sql or "sqlite_master" in sql:
                continue  # tests reading the schema itself, not the application's tables
            read, written = await truth.of(sql, values)
            if written and not is_write(sql):
                wrong.append(f"writes {sorted(written)} but counts as a read: {sql}")
            if is_write(sql):
                named = written_tables(sql)
                if EVERYTHING not in named and not written <= named:
                    wrong.append(f"writes {sorted(written - named)} unnamed: {sql}")
            else:
                named = read_tables(sql)
                if EVERYTHING not in named and not read <= named:
                    wrong.append(f"reads {sorted(read - named)} unnamed: {sql}")
    finally:
        await truth.close()
    assert not wrong, "\n".join(wrong)
