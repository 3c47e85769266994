from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TrustedDocument',
            fields=[
                ('hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('document', fields.TextField(unique=False)),
                ('client', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'trusted_document', 'app': 'models', 'pk_attr': 'hash'},
            bases=['Model'],
        ),
    ]
