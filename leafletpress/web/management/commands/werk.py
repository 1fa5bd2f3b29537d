"""`manage.py werk`: a worker, as every worker machine runs it (a service): first
`hervat` (so a worker that starts picks up what stopped workers left, and the watch is
queued), then django-tasks' `db_worker` with the options given.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start een worker: eerst hervat, dan db_worker (opties gaan naar db_worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_options", nargs="*", help="opties voor db_worker")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("hervat")
        call_command("db_worker", *options["worker_options"])
