"""reads/sql.py: the same fixed statements on PostgreSQL and SQLite."""

from __future__ import annotations

from models.territories import Territory
from reads import sql
from tests.factories import make_territory


async def test_placeholders_select_and_convert_rows_on_both_databases() -> None:
    territory = await make_territory()
    rows = await sql.fetch(f"SELECT {sql.columns(Territory, 't')} FROM territory t WHERE t.id = $1 AND t.slug = $2",
                           territory.id, territory.slug)
    found = sql.model_from_row(Territory, rows[0])
    assert (found.id, found.slug, found.name) == (territory.id, territory.slug, territory.name)
    assert found.created_at == territory.created_at  # a datetime, from text on SQLite
    # Numbered placeholders may repeat and come in any order.
    assert (await sql.fetchrow("SELECT $2 = $2, $1 + 1", 41, "x"))[1] == 42  # type: ignore[index]


async def test_writes_with_returning_give_their_rows_and_updates_their_count() -> None:
    territory = await make_territory()
    rows = await sql.fetch('UPDATE territory SET population = $2 WHERE id = $1 RETURNING "population"',
                           territory.id, 1234)
    assert [row[0] for row in rows] == [1234]
    assert await sql.execute("UPDATE territory SET population = population + 1 WHERE id = $1", territory.id) == 1
    assert (await Territory.get(id=territory.id)).population == 1235
