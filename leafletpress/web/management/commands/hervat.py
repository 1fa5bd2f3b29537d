"""`manage.py hervat`: queue again every day and every email run that a stopped server or
worker left unfinished, and make sure the watch (which does the same for days, every half
lease) and the daily retention run are queued. `manage.py werk` runs it before it works.

The batch journal skips what was made, so a day resumed this way ends as one that ran
through. Run by `make serve` before the worker starts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...models import Day, Mailing
from ...retention import stale_local_files
from ...tasks import email_day, keep_watching, make_day


class Command(BaseCommand):
    help = "Zet onderbroken dagen opnieuw in de wachtrij."

    def handle(self, *args: Any, **options: Any) -> None:
        stale_local_files()  # this machine's: a web machine runs no retention task
        unfinished = Day.objects.filter(status__in=[Day.QUEUED, Day.RUNNING])
        unfinished.update(finisher="")  # one that stopped while making the print files
        for day in unfinished:
            make_day.enqueue(str(day.id))
        sending = Mailing.objects.filter(status__in=[Mailing.QUEUED, Mailing.RUNNING])
        for mailing in sending:  # the send log keeps what was sent from going out again
            email_day.enqueue(mailing.id)
        self.stdout.write(f"{len(unfinished)} onderbroken dag(en) en {len(sending)} "
                          "onderbroken verzending(en) opnieuw in de wachtrij")  # fmt: skip
        keep_watching(now=True)
