"""Every entry has its place in the chain; on PostgreSQL the audit tables refuse UPDATE, DELETE
and TRUNCATE (the trigger below), but for the archive's deletion and the head moving forward."""

from django.db import migrations, models

GUARD = r"""
CREATE OR REPLACE FUNCTION pingan_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- Django's test runner empties its own test databases (test_...) between tests;
        -- SET pingan.audit_strict = 'on' to see what any other database answers.
        IF current_database() LIKE 'test\_%'
           AND coalesce(current_setting('pingan.audit_strict', true), '') <> 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditentry' THEN
        -- The archive's deletion (pingan/audit/integrity.py): only in a transaction that said
        -- so, only of entries a checkpoint covers, never of one younger than 180 days.
        IF current_setting('pingan.audit_archive', true) = 'on'
           AND OLD.at < now() - interval '180 days'
           AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_checkpoint) THEN
            RETURN OLD;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_chainhead' THEN
        -- The head moves forward one entry at a time, and never back.
        IF NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

TABLES = ("audit_auditentry", "audit_checkpoint", "audit_chainhead")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GUARD, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pingan_audit_guard()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pingan_audit_guard()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS pingan_audit_guard()")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_chain_existing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="序号"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["actor", "-seq"], name="audit_actor_seq"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
