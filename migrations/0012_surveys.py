from uuid import uuid4

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from models.polls import ResultsVisibility
from models.surveys import QuestionKind


class Migration(migrations.Migration):
    dependencies = [('models', '0011_uploads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Survey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('territory', fields.ForeignKeyField('models.Territory', source_field='territory_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.Member', source_field='created_by_id', db_constraint=True, to_field='id', related_name='surveys_created', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('verified_only', fields.BooleanField(default=False)),
                ('results_visibility', fields.CharEnumField(default=ResultsVisibility.LIVE, description='LIVE: LIVE\nAFTER_CLOSE: AFTER_CLOSE', enum_type=ResultsVisibility, max_length=16)),
                ('opens_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('total_submissions', fields.IntField(default=0)),
                ('counted_submissions', fields.IntField(default=0)),
                ('tally', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'survey', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SealedSurveyResponse',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='sealed_responses', on_delete=OnDelete.CASCADE)),
                ('sealed', fields.BinaryField()),
            ],
            options={'table': 'survey_sealed_response', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyDraft',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='drafts', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='survey_drafts', on_delete=OnDelete.CASCADE)),
                ('sealed', fields.BinaryField()),
            ],
            options={'table': 'survey_draft', 'app': 'models', 'unique_together': (('survey', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyParticipation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='participations', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='survey_participations', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'survey_participation', 'app': 'models', 'unique_together': (('survey', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyQuestion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('kind', fields.CharEnumField(description='SINGLE_CHOICE: SINGLE_CHOICE\nMULTIPLE_CHOICE: MULTIPLE_CHOICE\nRANKING: RANKING\nSCALE: SCALE\nSHORT_TEXT: SHORT_TEXT\nLONG_TEXT: LONG_TEXT', enum_type=QuestionKind, max_length=16)),
                ('prompt', fields.CharField(max_length=500)),
                ('help', fields.TextField(default='', unique=False)),
                ('required', fields.BooleanField(default=False)),
                ('options', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('min_choices', fields.IntField(null=True)),
                ('max_choices', fields.IntField(null=True)),
                ('scale_min', fields.IntField(null=True)),
                ('scale_max', fields.IntField(null=True)),
                ('min_label', fields.CharField(null=True, max_length=100)),
                ('max_label', fields.CharField(null=True, max_length=100)),
                ('shown_if_position', fields.IntField(null=True)),
                ('shown_if_option', fields.IntField(null=True)),
            ],
            options={'table': 'survey_question', 'app': 'models', 'unique_together': (('survey', 'position'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyResponse',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='responses', on_delete=OnDelete.CASCADE)),
                ('answers', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'survey_response', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
