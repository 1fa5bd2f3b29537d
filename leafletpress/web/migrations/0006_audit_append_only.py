"""On PostgreSQL, the database itself refuses to change or delete an audit event: not only
the app, also someone with SQL access under the app's account."""

from typing import Any

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION leafletpress_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'het auditlog kan niet gewijzigd of gewist worden';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER web_auditevent_append_only BEFORE UPDATE OR DELETE ON web_auditevent
    FOR EACH ROW EXECUTE FUNCTION leafletpress_audit_append_only();
"""
UNDO = """
DROP TRIGGER IF EXISTS web_auditevent_append_only ON web_auditevent;
DROP FUNCTION IF EXISTS leafletpress_audit_append_only();
"""


def _on_postgresql(sql: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("web", "0005_dayparts")]
    operations = [migrations.RunPython(_on_postgresql(APPEND_ONLY), _on_postgresql(UNDO))]
