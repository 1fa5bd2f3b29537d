"""The key of the keyed hashes: pseudonyms and forgotten addresses (issue 23, F10, F16)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0009_audit_account_and_covers"),
    ]

    operations = [
        migrations.CreateModel(
            name="HospitalKey",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("value", models.CharField(max_length=128)),
            ],
        ),
    ]
