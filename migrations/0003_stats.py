from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.stats import RECOUNT, create_triggers, drop_triggers


def dialect_of(schema_editor) -> str:
    return "postgres" if schema_editor.client.capabilities.dialect == "postgres" else "sqlite"


async def count_and_maintain(apps, schema_editor) -> None:
    """The triggers that keep the counters (models/stats.py), and the counters of what exists."""
    for statement in [*create_triggers(dialect_of(schema_editor)), *RECOUNT]:
        await schema_editor.client.execute_script(statement)


async def forget(apps, schema_editor) -> None:
    for statement in drop_triggers(dialect_of(schema_editor)):
        await schema_editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0002_trusted_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Participant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('territory_id', fields.IntField()),
                ('member_id', fields.IntField()),
                ('contributions', fields.IntField(default=0)),
            ],
            options={'table': 'participant', 'app': 'models', 'unique_together': (('territory_id', 'member_id'),), 'pk_attr': 'id', 'table_description': 'A member who asked, proposed, supported, voted or commented in a territory, and how'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TerritoryCounters',
            fields=[
                ('territory_id', fields.IntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('participants', fields.IntField(default=0)),
                ('questions_asked', fields.IntField(default=0)),
                ('questions_open', fields.IntField(default=0)),
                ('questions_answered', fields.IntField(default=0)),
                ('replies', fields.IntField(default=0)),
                ('replies_on_time', fields.IntField(default=0)),
                ('median_reply_seconds', fields.IntField(null=True)),
                ('ideas_proposed', fields.IntField(default=0)),
                ('ideas_realized', fields.IntField(default=0)),
                ('polls', fields.IntField(default=0)),
                ('votes_cast', fields.IntField(default=0)),
            ],
            options={'table': 'territory_stats', 'app': 'models', 'pk_attr': 'territory_id', 'table_description': 'The counters of one territory (created with it by a trigger).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Question',
            index=Index(fields=['territory_id', 'status', 'due_at']),
        ),
        ops.RunPython(count_and_maintain, forget),
    ]
