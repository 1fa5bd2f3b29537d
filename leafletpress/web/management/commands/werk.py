"""`manage.py werk`: a worker, as every worker machine runs it (a service): first
`hervat` (so a worker that starts picks up what stopped workers left, and the watch is
queued), then django-tasks' `db_worker` with the options given.

A database that stays locked longer than its timeout (SQLite, while another process writes
at length), that is down or restarts (PostgreSQL) does not end the worker: it says so in the
log, waits and goes on, for ten minutes at most; a database that refuses (no tables, a wrong
password) ends it at once, with an error line. No worker starts while a restore is under way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connections
from django_tasks_db.utils import is_locked_database_exception

from ....day.workers import warm
from ...backup import restoring

PAUSE_SECONDS = 1.0
GONE_PAUSE_SECONDS = 5  # a database restarting, or down: tried again
GIVE_UP_SECONDS = 600
log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Start een worker: eerst hervat, dan db_worker (opties gaan naar db_worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_options", nargs="*", help="opties voor db_worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if restoring():
            raise CommandError("een herstel uit een reservekopie is bezig of werd onderbroken "
                               "(.herstel-bezig in de gedeelde map): maak het af met herstel, "
                               "dan start de werker")  # fmt: skip
        _warm()
        gone_since, last = None, 0.0
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
                if not _unreachable(exc) or _too_long(gone_since):
                    log.error("de databank weigert (%s): de werker stopt", str(exc).strip())
                    raise
                log.warning("de databank antwoordt niet (%s); de werker probeert het over %d s "
                            "opnieuw", str(exc).strip(), GONE_PAUSE_SECONDS)  # fmt: skip
            except InterfaceError as exc:  # a connection the database ended (a restart)
                log.warning("de verbinding met de databank is weg (%s); de werker probeert het "
                            "over %d s opnieuw", exc, GONE_PAUSE_SECONDS)  # fmt: skip
            now = time.monotonic()  # an outage: since its first failure (a later one anew)
            gone_since = now if gone_since is None or now - last > 60 else gone_since
            last = now
            connections.close_all()
            time.sleep(GONE_PAUSE_SECONDS)


def _warm() -> None:
    """The renderer loaded before the first day, not during it. Content that cannot be loaded
    is the first day's to report, as it would be without this."""
    from ...service import project

    try:
        warm(str(project().root))
    except Exception as exc:
        log.warning("de inhoud laadt niet (%s); de eerste dag zegt waarom", type(exc).__name__)


def _unreachable(exc: OperationalError) -> bool:
    """The database is down or restarting, not wrong: a missing table (no migrate), a refused
    password or an unknown database are said and end the worker (systemd counts it)."""
    said = str(exc).lower()
    wrong = ("no such table", "does not exist", "authentication failed", "password", "role ")
    return not any(word in said for word in wrong)


def _too_long(since: float | None) -> bool:
    """Ten minutes without a database: the worker ends, so the failure shows (systemctl)."""
    return since is not None and time.monotonic() - since > GIVE_UP_SECONDS
