from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.notifications import NotificationKind

# The reminder kinds QUESTION_DUE and REPORTS_OPEN (preferences, unsubscribe links): only the
# columns' descriptions change, the values fit the same varchar(32).
KINDS = ('QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\n'
         'NEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN\nQUESTION_DUE: QUESTION_DUE\n'
         'REPORTS_OPEN: REPORTS_OPEN')


class Migration(migrations.Migration):
    dependencies = [('models', '0008_shown_at')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description=KINDS, enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterField(
            model_name='NotificationPreference',
            name='kind',
            field=fields.CharEnumField(description=KINDS, enum_type=NotificationKind, max_length=32),
        ),
    ]
