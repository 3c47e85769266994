import datetime as dt
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

PREFIXES = {"question": ("Question", "Q"), "idea": ("Idea", "I")}


def _year(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return value.year
    return int(str(value)[:4])  # SQLite hands back text


async def backfill_references(apps: Any, editor: Any) -> None:
    """Give the rows written before references their numbers, in the order they were
    written (by id) per territory and year, and leave each counter at the last one given."""
    client = editor.client
    mark = "$" if client.capabilities.dialect == "postgres" else "?"
    for table, (kind, prefix) in PREFIXES.items():
        _, rows = await client.execute_query(
            f"SELECT id, territory_id, created_at FROM {table} WHERE reference IS NULL ORDER BY id"
        )
        taken: dict[tuple[int, int], int] = {}
        for row in rows:
            key = (row["territory_id"], _year(row["created_at"]))
            taken[key] = taken.get(key, 0) + 1
            params = ["$1", "$2"] if mark == "$" else ["?", "?"]
            await client.execute_query(
                f"UPDATE {table} SET reference = {params[0]} WHERE id = {params[1]}",
                [f"{prefix}-{key[1]}-{taken[key]:04d}", row["id"]],
            )
        for (territory, year), count in taken.items():
            marks = ", ".join(f"${i}" if mark == "$" else "?" for i in range(1, 5))
            await client.execute_query(
                f"INSERT INTO reference_counter (territory_id, kind, year, taken) VALUES ({marks})",
                [territory, kind, year, count],
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0009_unsub')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReferenceCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('territory_id', fields.IntField()),
                ('kind', fields.CharField(max_length=16)),
                ('year', fields.IntField()),
                ('taken', fields.IntField(default=0)),
            ],
            options={'table': 'reference_counter', 'app': 'models', 'unique_together': (('territory_id', 'kind', 'year'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Comment',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Comment',
            name='edited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Idea',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Idea',
            name='edited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Idea',
            name='reference',
            field=fields.CharField(null=True, max_length=24),
        ),
        ops.AddConstraint(
            model_name='Idea',
            constraint=UniqueConstraint(fields=('territory_id', 'reference'), name=None),
        ),
        ops.AddField(
            model_name='Question',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Question',
            name='edited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Question',
            name='reference',
            field=fields.CharField(null=True, max_length=24),
        ),
        ops.AddConstraint(
            model_name='Question',
            constraint=UniqueConstraint(fields=('territory_id', 'reference'), name=None),
        ),
        ops.RunPython(backfill_references, ops.RunPython.noop),
    ]
