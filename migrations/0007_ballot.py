from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0006_dayone')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SealedBallot',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('poll', fields.ForeignKeyField('models.Poll', source_field='poll_id', db_constraint=True, to_field='id', related_name='sealed_ballots', on_delete=OnDelete.CASCADE)),
                ('sealed', fields.BinaryField()),
            ],
            options={'table': 'poll_sealed_ballot', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Poll',
            name='counted_votes',
            field=fields.IntField(default=0),
        ),
        # Ballots cast before sealed ballots existed were counted when cast.
        ops.RunSQL('UPDATE "poll" SET "counted_votes" = "total_votes"', 'SELECT 1'),
        ops.AddField(
            model_name='Territory',
            name='ballot_batch',
            field=fields.IntField(default=5),
        ),
    ]
