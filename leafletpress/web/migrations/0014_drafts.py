"""Issue 26: drafts of the content, the approvers' role, and the content a day is made with."""

import uuid
from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def add_role(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.get_or_create(name="goedkeuring")


def remove_role(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name="goedkeuring").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0013_corrections_and_patient_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.RunPython(add_role, remove_role),
        migrations.AddField(
            model_name="day",
            name="content",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.CreateModel(
            name="Draft",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("path", models.CharField(max_length=120)),
                ("text", models.TextField()),
                ("base", models.CharField(max_length=40)),
                ("revision", models.PositiveIntegerField(default=1)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("bewerken", "bewerken"),
                            ("ter goedkeuring", "ter goedkeuring"),
                            ("goedgekeurd", "goedgekeurd"),
                            ("ingetrokken", "ingetrokken"),
                        ],
                        default="bewerken",
                        max_length=20,
                    ),
                ),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("saved", models.DateTimeField(auto_now=True)),
                ("saved_by", models.CharField(max_length=150)),
                ("editors", models.JSONField(default=list)),
                ("note", models.TextField(blank=True)),
                ("comment", models.TextField(blank=True)),
                ("commented_by", models.CharField(blank=True, max_length=150)),
                ("decided_by", models.CharField(blank=True, max_length=150)),
                ("decided", models.DateTimeField(null=True)),
                ("commit", models.CharField(blank=True, max_length=40)),
                ("version", models.CharField(blank=True, max_length=20)),
                (
                    "started_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-saved"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ("bewerken", "ter goedkeuring"))),
                        fields=("path",),
                        name="one_open_draft_per_file",
                    )
                ],
            },
        ),
    ]
