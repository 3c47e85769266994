"""Both December branches added notification kinds (reminders, consultations): the enum columns list them all."""
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.notifications import NotificationKind


class Migration(migrations.Migration):
    dependencies = [('models', '0013_consult')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\nNEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN\nQUESTION_DUE: QUESTION_DUE\nREPORTS_OPEN: REPORTS_OPEN\nCONSULTATION_PHASE_STARTED: CONSULTATION_PHASE_STARTED\nOUTCOME_PUBLISHED: OUTCOME_PUBLISHED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterField(
            model_name='NotificationPreference',
            name='kind',
            field=fields.CharEnumField(description='QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\nNEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN\nQUESTION_DUE: QUESTION_DUE\nREPORTS_OPEN: REPORTS_OPEN\nCONSULTATION_PHASE_STARTED: CONSULTATION_PHASE_STARTED\nOUTCOME_PUBLISHED: OUTCOME_PUBLISHED', enum_type=NotificationKind, max_length=32),
        ),
    ]
