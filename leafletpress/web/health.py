"""The health of an installation, for the load balancer and the monitoring (issue 25, item 4).

Input: the database, the shared folder, the content folder and the task queue. Output: each
check's verdict in a few words and numbers, and whether all passed. Guarantees: nothing about
patients, accounts or paths; it reads, and writes only an empty file in the shared folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from . import service

TASKS = "leafletpress.web.tasks"
QUEUE_WAIT = timedelta(minutes=15)  # a task waiting longer: no worker takes it
RETENTION_EVERY = timedelta(hours=26)  # the daily run, and a little slack


def report(now: datetime | None = None) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(all well, per check: {"ok": …, "detail": …}), each check run apart: one failing
    (the database gone) never hides the others."""
    now = now or timezone.now()
    found = {}
    for name, check in CHECKS.items():
        try:
            ok, detail = check(now)
        except Exception as exc:  # whatever broke: the check says so, the page answers
            ok, detail = False, f"{type(exc).__name__}"
        found[name] = {"ok": ok, "detail": detail}
    return all(c["ok"] for c in found.values()), found


def _database(now: datetime) -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, connection.vendor


def _shared(now: datetime) -> tuple[bool, str]:
    """The shared folder takes a new file (the workers write the days there)."""
    folder = Path(settings.SHARED)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".gezond-", dir=folder)
    os.close(handle)
    os.unlink(name)
    return True, "schrijfbaar"


def _content(now: datetime) -> tuple[bool, str]:
    """The hospital's content folder holds leaflets and configuration the app can read."""
    project = service.project()
    leaflets = (
        sum(1 for _ in project.leaflets_dir.iterdir()) if project.leaflets_dir.is_dir() else 0
    )
    config = project.config_dir.is_dir() and os.access(project.config_dir, os.R_OK)
    return bool(leaflets and config), f"{leaflets} folder(s)" if config else "geen config/"


def _finished(task: str) -> datetime | None:
    last = (DBTaskResult.objects.filter(task_path=f"{TASKS}.{task}",
                                        status=TaskResultStatus.SUCCESSFUL)
            .order_by("-finished_at").values_list("finished_at", flat=True).first())  # fmt: skip
    return last


def _workers(now: datetime) -> tuple[bool, str]:
    """A worker is alive: the watch, which a worker runs every half lease, ran lately."""
    last = _finished("watch")
    if last is None:
        return False, "nog geen werker gezien"
    age = (now - last).total_seconds()
    return age <= 2 * settings.WORKER_LEASE_SECONDS + 60, f"laatste teken {age:.0f} s geleden"


def _queue(now: datetime) -> tuple[bool, str]:
    """The oldest task that could have started and did not."""
    oldest = (DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now)
              .order_by("enqueued_at").values_list("enqueued_at", flat=True).first())  # fmt: skip
    if oldest is None:
        return True, "niets wacht"
    age = now - oldest
    return age <= QUEUE_WAIT, f"oudste taak wacht {age.total_seconds():.0f} s"


def _retention(now: datetime) -> tuple[bool, str]:
    """The retention run ran in the last day, or is queued (a new installation)."""
    last = _finished("clean_up")
    if last is not None and now - last <= RETENTION_EVERY:
        return True, f"laatst {timezone.localtime(last):%d/%m/%Y %H:%M}"
    queued = DBTaskResult.objects.filter(task_path=f"{TASKS}.clean_up",
                                         status=TaskResultStatus.READY).exists()  # fmt: skip
    if queued and last is None:
        return True, "nog niet gedraaid, staat klaar"
    return False, "niet gedraaid in het laatste etmaal" if last else "nooit gedraaid"


def _restore(now: datetime) -> tuple[bool, str]:
    """No restore from a backup under way or interrupted (workers do not start then)."""
    from .backup import restoring

    return (False, "bezig of onderbroken") if restoring() else (True, "geen")


CHECKS: dict[str, Callable[[datetime], tuple[bool, str]]] = {
    "database": _database,
    "gedeelde_map": _shared,
    "inhoud": _content,
    "werkers": _workers,
    "wachtrij": _queue,
    "opruimen": _retention,
    "herstel": _restore,
}
