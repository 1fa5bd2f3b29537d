"""Need to know: the service of a leaflet, a day and an audit event; an upload's size, for
the quota (issue 23)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0009_audit_account_and_covers"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="service",
            field=models.CharField(blank=True, max_length=250),
        ),
        migrations.AddField(
            model_name="day",
            name="services",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="day",
            name="size",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="document",
            name="service",
            field=models.CharField(blank=True, max_length=120),
        ),
    ]
