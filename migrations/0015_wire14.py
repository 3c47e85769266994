"""Issue 14 as one feature: a document's owner may be a consultation phase (phase documents
become Document rows: links or files with versions), a survey may be held by a phase. The
link-only phase_document rows move into document, then their table goes."""
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0014_notification_kinds')]

    initial = False

    operations = [
        # The old table's backward name frees "documents" for Document.phase (state only).
        ops.AlterField(
            model_name='PhaseDocument',
            name='phase',
            field=fields.ForeignKeyField('models.ConsultationPhase', source_field='phase_id', db_constraint=True, to_field='id', related_name='link_documents', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Document',
            name='phase',
            field=fields.ForeignKeyField('models.ConsultationPhase', source_field='phase_id', null=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Survey',
            name='phase',
            field=fields.ForeignKeyField('models.ConsultationPhase', source_field='phase_id', null=True, db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunSQL(
            'INSERT INTO "document" ("phase_id", "title", "url", "kind", "draft", "created_at") '
            'SELECT "phase_id", "title", "url", "kind", FALSE, "created_at" FROM "phase_document" ORDER BY "id"',
            # Back: a phase's link documents return to phase_document (its files have no home there).
            reverse_sql=[
                'INSERT INTO "phase_document" ("phase_id", "title", "url", "kind", "created_at") '
                'SELECT "phase_id", "title", "url", "kind", "created_at" FROM "document" '
                'WHERE "phase_id" IS NOT NULL AND "url" IS NOT NULL ORDER BY "id"',
                'DELETE FROM "document" WHERE "phase_id" IS NOT NULL',
            ],
        ),
        ops.DeleteModel(name='PhaseDocument'),
    ]
