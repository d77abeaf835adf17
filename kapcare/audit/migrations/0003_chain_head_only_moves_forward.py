"""The chain head may only move forward: rewinding it would hide deleted events."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARD = {
    "sqlite": [
        """CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_auditchainhead
           WHEN NEW.seq < OLD.seq
           BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
           BEGIN
             IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN
               RAISE EXCEPTION 'the audit chain head only moves forward';
             END IF;
             RETURN NEW;
           END; $$ LANGUAGE plpgsql;""",
        """CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE OR DELETE ON audit_auditchainhead
           FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();""",
    ],
}
BACKWARD = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_head_no_rewind;"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_head_no_rewind ON audit_auditchainhead;",
        "DROP FUNCTION IF EXISTS audit_head_forward_only();",
    ],
}


def forward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def backward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in BACKWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [migrations.RunPython(forward, backward)]
