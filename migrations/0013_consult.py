from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.consultations import ConsultationStatus, PhaseKind
from models.notifications import NotificationKind
from models.projects import DocumentKind


class Migration(migrations.Migration):
    dependencies = [('models', '0012_surveys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Consultation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('territory', fields.ForeignKeyField('models.Territory', source_field='territory_id', db_constraint=True, to_field='id', related_name='consultations', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='consultations', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.Member', source_field='created_by_id', db_constraint=True, to_field='id', related_name='consultations_created', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('summary', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=ConsultationStatus.DRAFT, description='DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nCLOSED: CLOSED', enum_type=ConsultationStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consultation', 'app': 'models', 'indexes': [Index(fields=['territory_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsultationPhase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('consultation', fields.ForeignKeyField('models.Consultation', source_field='consultation_id', db_constraint=True, to_field='id', related_name='phases', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='INFORMATION: INFORMATION\nDEBATE: DEBATE\nSURVEY: SURVEY\nVOTE: VOTE\nRESTITUTION: RESTITUTION', enum_type=PhaseKind, max_length=16)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepts_ideas', fields.BooleanField(default=False)),
                ('accepts_questions', fields.BooleanField(default=False)),
                ('start_announced', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'consultation_phase', 'app': 'models', 'indexes': [Index(fields=['consultation_id', 'starts_at']), Index(fields=['start_announced', 'starts_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outcome',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phase', fields.OneToOneField('models.ConsultationPhase', source_field='phase_id', db_constraint=True, to_field='id', related_name='outcome', on_delete=OnDelete.CASCADE)),
                ('published_by', fields.ForeignKeyField('models.Member', source_field='published_by_id', db_constraint=True, to_field='id', related_name='outcomes_published', on_delete=OnDelete.CASCADE)),
                ('summary', fields.TextField(unique=False)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'outcome', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutcomeItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('outcome', fields.ForeignKeyField('models.Outcome', source_field='outcome_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharField(max_length=32)),
                ('subject_id', fields.IntField()),
            ],
            options={'table': 'outcome_item', 'app': 'models', 'unique_together': (('outcome', 'subject_type', 'subject_id'),), 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhaseDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phase', fields.ForeignKeyField('models.ConsultationPhase', source_field='phase_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('url', fields.CharField(max_length=2000)),
                ('kind', fields.CharEnumField(description='DOCUMENT: DOCUMENT\nBUDGET: BUDGET\nMAP: MAP\nREPORT: REPORT', enum_type=DocumentKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'phase_document', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhaseItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phase', fields.ForeignKeyField('models.ConsultationPhase', source_field='phase_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharField(max_length=32)),
                ('subject_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'phase_item', 'app': 'models', 'unique_together': (('subject_type', 'subject_id'),), 'indexes': [Index(fields=['phase_id', 'subject_type'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\nNEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN\nCONSULTATION_PHASE_STARTED: CONSULTATION_PHASE_STARTED\nOUTCOME_PUBLISHED: OUTCOME_PUBLISHED', enum_type=NotificationKind, max_length=32),
        ),
        ops.AlterField(
            model_name='NotificationPreference',
            name='kind',
            field=fields.CharEnumField(description='QUESTION_ANSWERED: QUESTION_ANSWERED\nIDEA_STATUS_CHANGED: IDEA_STATUS_CHANGED\nPOLL_CLOSED: POLL_CLOSED\nNEW_COMMENT: NEW_COMMENT\nCONTENT_HIDDEN: CONTENT_HIDDEN\nCONSULTATION_PHASE_STARTED: CONSULTATION_PHASE_STARTED\nOUTCOME_PUBLISHED: OUTCOME_PUBLISHED', enum_type=NotificationKind, max_length=32),
        ),
    ]
