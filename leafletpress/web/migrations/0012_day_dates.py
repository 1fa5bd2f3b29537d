"""The appointments' days of an uploaded list, for the list of recent days (issue 24, item 5)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0011_directory_subject"),
    ]

    operations = [
        migrations.AddField(
            model_name="day",
            name="dates",
            field=models.JSONField(default=list),
        ),
    ]
