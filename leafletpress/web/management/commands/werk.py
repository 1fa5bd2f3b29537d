"""`manage.py werk`: a worker, as every worker machine runs it (a service): first
`hervat` (so a worker that starts picks up what stopped workers left, and the watch is
queued), then django-tasks' `db_worker` with the options given.

A database that stays locked longer than its timeout (SQLite, while another process writes
at length), that is down or restarts (PostgreSQL) does not end the worker: it says so in the
log, waits and goes on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, connections
from django_tasks_db.utils import is_locked_database_exception

PAUSE_SECONDS = 1.0
GONE_PAUSE_SECONDS = 5  # a database restarting, or down: tried again, quietly
log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Start een worker: eerst hervat, dan db_worker (opties gaan naar db_worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_options", nargs="*", help="opties voor db_worker")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:  # hervat each time: it queues the watch again if the lock lost it
            try:
                call_command("hervat")
                call_command("db_worker", *options["worker_options"])
                return
            except OperationalError as exc:
                if is_locked_database_exception(exc):
                    log.warning("de databank is bezet (%s); de werker probeert het zo opnieuw", exc)
                    time.sleep(PAUSE_SECONDS)
                    continue
                log.warning("de databank antwoordt niet (%s); de werker probeert het over %d s "
                            "opnieuw", str(exc).strip(), GONE_PAUSE_SECONDS)  # fmt: skip
            except InterfaceError as exc:  # a connection the database ended (a restart)
                log.warning("de verbinding met de databank is weg (%s); de werker probeert het "
                            "over %d s opnieuw", exc, GONE_PAUSE_SECONDS)  # fmt: skip
            connections.close_all()
            time.sleep(GONE_PAUSE_SECONDS)
