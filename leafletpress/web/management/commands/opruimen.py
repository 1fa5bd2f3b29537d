"""`manage.py opruimen`: delete patients' files older than the retention period, now.

The worker does the same every day (see retention.py for what is deleted and what is kept).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from ...retention import purge


class Command(BaseCommand):
    help = "Wis de bestanden van patiënten die ouder zijn dan de bewaartermijn."

    def handle(self, *args: Any, **options: Any) -> None:
        done = purge()
        self.stdout.write(f"Bewaartermijn {settings.RETENTION_DAYS} dagen: {done}.")
