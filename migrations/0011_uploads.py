from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0010_editing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DocumentVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.Document', source_field='document_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('key', fields.CharField(unique=True, max_length=300)),
                ('filename', fields.CharField(max_length=120)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('uploaded_by', fields.ForeignKeyField('models.Member', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='document_versions', on_delete=OnDelete.SET_NULL)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'document_version', 'app': 'models', 'unique_together': (('document', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Document',
            name='project',
            field=fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Document',
            name='url',
            field=fields.CharField(null=True, max_length=2000),
        ),
        ops.AddField(
            model_name='Document',
            name='alt_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Document',
            name='draft',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Document',
            name='language',
            field=fields.CharField(null=True, max_length=35),
        ),
        ops.AddField(
            model_name='Territory',
            name='upload_max_bytes',
            field=fields.IntField(default=20971520),
        ),
    ]
