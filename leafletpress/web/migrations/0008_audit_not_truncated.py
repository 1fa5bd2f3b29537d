"""On PostgreSQL, the audit table cannot be emptied with TRUNCATE either (a statement that
row triggers do not see). The table's owner can still disable triggers: run the app under a
role that does not own its tables (docs/install.md, "Configure")."""

from typing import Any

from django.db import migrations

NO_TRUNCATE = """
CREATE TRIGGER web_auditevent_not_truncated BEFORE TRUNCATE ON web_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION leafletpress_audit_append_only();
"""
UNDO = "DROP TRIGGER IF EXISTS web_auditevent_not_truncated ON web_auditevent;"


def _on_postgresql(sql: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("web", "0007_finishing")]
    operations = [migrations.RunPython(_on_postgresql(NO_TRUNCATE), _on_postgresql(UNDO))]
