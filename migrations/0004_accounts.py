from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from models.accounts import EmailTokenPurpose
from models.delivery import JobStatus


class Migration(migrations.Migration):
    dependencies = [('models', '0003_stats')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DeliveryJob',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('channel', fields.CharField(max_length=32)),
                ('recipient', fields.CharField(max_length=500)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=JobStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nDEAD: DEAD', enum_type=JobStatus, max_length=8)),
                ('attempts', fields.IntField(default=0)),
                ('run_after', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery_job', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='email_tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='VERIFY_EMAIL: VERIFY_EMAIL\nRESET_PASSWORD: RESET_PASSWORD', enum_type=EmailTokenPurpose, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A token sent by email (verify an address, reset a password): random, single-use,'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AccessToken',
            name='device',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='AccessToken',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Account',
            name='email_verified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Account',
            name='locale',
            field=fields.CharField(default='fr', max_length=8),
        ),
        ops.AddField(
            model_name='Territory',
            name='email_verification_required',
            field=fields.BooleanField(default=False),
        ),
    ]
