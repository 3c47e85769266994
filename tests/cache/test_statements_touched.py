"""What sharing/stamp.py reads from a statement's text must cover what the database says the
statement touches (docs/adr/0012), or a write would leave a stale page served. Checked for every
statement this test process ran (this module runs last: its only test is marked `last`, and
under pytest-xdist it is the last work unit of the worker that takes it), against PostgreSQL's
plans or SQLite's authorizer, with foreign-key cascades."""

from __future__ import annotations

from typing import Any

import pytest

from sharing.stamp import EVERYTHING, is_write, read_tables, written_tables
from tests.factories import PASSWORD
from tests.ideas.stories import proposed, support, withdraw
from tests.news.stories import comment, moderate, publish, report
from tests.polls.stories import close as close_poll
from tests.polls.stories import created, option_ids, town, voted
from tests.questions.stories import asked, reply
from tests.statements import RECORDED, truth_for
from tests.test_query_count import HOME


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
