from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.notifications import NotificationKind
from models.reach import Channel, Frequency, PushPlatform


class Migration(migrations.Migration):
    dependencies = [('models', '0004_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Follow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharField(max_length=16)),
                ('subject_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'follow', 'app': 'models', 'unique_together': (('account', 'subject_type', 'subject_id'),), 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notification_preferences', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\nNEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN', enum_type=NotificationKind, max_length=32)),
                ('channel', fields.CharEnumField(description='IN_APP: IN_APP\nEMAIL: EMAIL\nPUSH: PUSH', enum_type=Channel, max_length=16)),
                ('frequency', fields.CharEnumField(description='IMMEDIATELY: IMMEDIATELY\nDAILY_DIGEST: DAILY_DIGEST\nNEVER: NEVER', enum_type=Frequency, max_length=16)),
            ],
            options={'table': 'notification_preference', 'app': 'models', 'unique_together': (('account', 'kind', 'channel'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='push_subscriptions', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharEnumField(default=PushPlatform.WEB, description='WEB: WEB\nFCM: FCM\nAPNS: APNS', enum_type=PushPlatform, max_length=8)),
                ('endpoint', fields.TextField(unique=False)),
                ('endpoint_hash', fields.CharField(max_length=64)),
                ('p256dh', fields.CharField(default='', max_length=128)),
                ('auth', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'push_subscription', 'app': 'models', 'unique_together': (('account', 'endpoint_hash'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
