"""An audit event keeps the account's id (a name can be reused) and the references an event
about many patients covers (issue 23, F6, F12)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0008_audit_not_truncated"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="account",
            field=models.IntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="covers",
            field=models.TextField(blank=True),
        ),
    ]
