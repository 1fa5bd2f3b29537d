"""`manage.py hervat`: queue again every day a stopped server or worker left unfinished, and
make sure the daily retention run is queued.

The batch journal skips what was made, so a day resumed this way ends as one that ran
through. Run by `make serve` before the worker starts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...models import Day
from ...tasks import make_day, schedule_clean_up


class Command(BaseCommand):
    help = "Zet onderbroken dagen opnieuw in de wachtrij."

    def handle(self, *args: Any, **options: Any) -> None:
        unfinished = Day.objects.filter(status__in=[Day.QUEUED, Day.RUNNING])
        unfinished.update(finisher="")  # one that stopped while making the print files
        for day in unfinished:
            make_day.enqueue(str(day.id))
        self.stdout.write(f"{len(unfinished)} onderbroken dag(en) opnieuw in de wachtrij")
        schedule_clean_up(timezone.now())  # then daily
