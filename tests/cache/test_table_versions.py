"""Shared answers depend on the tables they read (docs/adr/0012): what sharing/stamp.py reads
from a statement's text must cover what the database says the statement touches, or a write
would leave a stale page served. Every statement the suite ran is checked against the database by
tests/cache/test_statements_touched.py, which runs last."""

from __future__ import annotations

from typing import Any

from sharing.stamp import EVERYTHING, LOCAL, is_write, read_tables, written_tables
from tests.polls.stories import created, option_ids, town, voted


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
