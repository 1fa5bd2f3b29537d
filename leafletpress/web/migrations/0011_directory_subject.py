"""An OpenID Connect account is bound to the provider's subject (the review of issue 23)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("web", "0010_need_to_know"),
    ]

    operations = [
        migrations.CreateModel(
            name="DirectorySubject",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("subject", models.CharField(max_length=255)),
            ],
        ),
    ]
