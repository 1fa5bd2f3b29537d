"""A clinic day made by every worker that is free, on one machine or several.

Input: a Day whose list was checked and queued. Output: its leaflets, print files and
manifests in the shared storage, and the Day marked done (or failed, with the engine's
message). The day's rows are cut into parts (``DayPart``) in the database; each worker claims
one part at a time and makes its leaflets with the engine's ``render_part``, checking before
each one that the part is still its own and saying every few seconds that it is alive. A part
whose worker fell silent for ``WORKER_LEASE_SECONDS`` (killed, its machine gone) is claimed by
another worker, which skips what was journaled: every leaflet is made once. The worker that
finishes the last part makes the print files and manifests with ``run_batch``, which finds
every leaflet made. ``revive``, run by every worker's watch, queues again a day whose workers
all stopped.

Guarantees: a part has one worker at a time (claims are conditional updates on its row, with
the database's clock); a worker whose part was taken over, whose day failed, or that is asked
to stop (SIGTERM) stops between two leaflets, and in the last case hands its part back at
once; the day is finished once.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, Sum, Value
from django.db.models.functions import Now

from ..common.errors import BusyError
from ..common.files import own_folder
from ..common.project import Project
from ..content.registry import Registry
from ..day.batch import Outcome, render_part, run_batch
from ..day.finish import strays
from ..day.workers import runs
from ..pdf.compose import Composer
from ..visit.daylist import DayList, read_day_list
from ..visit.plan import Plan, plan
from . import service
from .models import Day, DayPart

HEARTBEAT_SECONDS = 5  # how often a worker writes that it is alive; at most a quarter lease
# How often a worker adds up its day's progress for the progress page (which asks every
# second); each part's own count is written after each leaflet
COUNT_SECONDS = 0.5


def me() -> str:
    """This worker: its machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class TakenOver(Exception):
    """This worker was silent too long (another one has its part now), or its day failed."""


class Stopping(Exception):
    """The worker was asked to stop (SIGTERM): its part goes back for another worker."""


STOPPING = threading.Event()  # set by the worker's signal handler (tasks.py)


def silent_since() -> Any:
    """The moment before which a worker that said nothing counts as gone: by the database's
    clock, so machines whose clocks differ agree."""
    lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    return ExpressionWrapper(Now() - Value(lease), output_field=DateTimeField())


@dataclass
class Work:
    """A day as a worker sees it: its list, its plan, and what it is made into."""

    day: Day
    listing: DayList
    planned: Plan
    project: Project  # the content as approved when the day was queued (service.pinned)
    registry: Registry

    @classmethod
    def of(cls, day: Day) -> Work:
        project, registry = service.pinned(day.content)
        listing = read_day_list(day.upload, project, shown=day.source_name)
        planned = plan(listing, project, registry, date.today())
        return cls(day, listing, planned, project, registry)


def cut(work: Work) -> int:
    """Cut the day into parts, once: the runs of rows that share a leaflet text and are
    made together (``workers.runs``, as the CLI's ``batch`` makes them: the same bytes)."""
    with transaction.atomic():
        Day.objects.select_for_update().filter(pk=work.day.pk).first()  # one cutter at a time
        if work.day.parts.exists():
            return 0
        composer = Composer(work.project, work.registry)
        parts = runs(work.planned.entries, lambda entry: composer.leaflet(entry.p))
        DayPart.objects.bulk_create(
            DayPart(day=work.day, number=n, rows=[e.row for e in part])
            for n, part in enumerate(parts)
        )
        return len(parts)


def _free(day: Day) -> Any:
    """The day's parts a worker may claim: open, or held by a worker gone silent."""
    free = Q(status=DayPart.OPEN) | Q(status=DayPart.BUSY, heartbeat__lt=silent_since())
    return DayPart.objects.filter(day=day, day__status=Day.RUNNING).filter(free)


def claimable(day: Day) -> bool:
    return _free(day).exists()


def claim(day: Day, from_the_end: bool = False) -> DayPart | None:
    """An open part of the day, or one whose worker fell silent; None if there is none or
    the day is no longer being made. The first worker takes parts from the start, the others
    from the end: each keeps to leaflet texts it has laid out before."""
    for part in _free(day).order_by("-number" if from_the_end else "number"):
        if STOPPING.is_set():
            return None
        same = {"status": part.status, "worker": part.worker, "claims": part.claims}
        taken = DayPart.objects.filter(pk=part.pk, **same).update(
            status=DayPart.BUSY, worker=me(), claims=part.claims + 1, heartbeat=Now(), done=0,
        )  # fmt: skip
        if taken:
            part.refresh_from_db()
            return part
    return None


def make_part(work: Work, part: DayPart) -> None:
    """Make the part's leaflets. Before each one the worker says it is alive, and stops if
    another worker took the part over (it was silent too long): a leaflet is never made by
    two workers, except the one in hand when a live worker is thought gone."""
    mine = DayPart.objects.filter(pk=part.pk, worker=me())
    said = [time.monotonic()]

    def alive() -> None:
        if STOPPING.is_set():
            mine.update(status=DayPart.OPEN, worker="", heartbeat=None)  # for another, now
            raise Stopping(part.pk)
        still = mine.filter(day__status=Day.RUNNING)
        every = min(HEARTBEAT_SECONDS, settings.WORKER_LEASE_SECONDS / 4)
        if time.monotonic() - said[0] < every:  # a read: no lock, no disk write
            if not still.exists():
                raise TakenOver(part.pk)
            return
        if not still.update(heartbeat=Now()):
            raise TakenOver(part.pk)
        said[0] = time.monotonic()

    counted = [0.0]

    def progress(done: int, total: int) -> None:
        mine.update(done=done)
        if time.monotonic() - counted[0] >= COUNT_SECONDS:
            _progress(work.day)
            counted[0] = time.monotonic()

    results = render_part(
        work.planned, set(part.rows), work.project, work.registry,
        work.day.out_dir, service.edition_of(work.day.outcome.get("edition", "a5")),
        on_progress=progress, before_each=alive,
    )  # fmt: skip
    made = sorted(r.row for r in results.values() if r.status == "made")
    found = sorted(r.row for r in results.values() if r.status == "unchanged")
    mine.update(status=DayPart.DONE, made=made, found=found, done=len(part.rows))
    _progress(work.day)


def _progress(day: Day) -> None:
    done = DayPart.objects.filter(day=day).aggregate(n=Sum("done"))["n"] or 0
    Day.objects.filter(pk=day.pk).update(done=done)


def unfinished(day: Day) -> bool:
    return DayPart.objects.filter(day=day).exclude(status=DayPart.DONE).exists()


def needs_finisher(day: Day) -> bool:
    """Every part made, and nobody making the print files yet."""
    return not unfinished(day) and Day.objects.filter(pk=day.pk, finisher="").exists()


def finish(work: Work) -> Outcome | None:
    """Print files and manifests, by one worker only; None if another one has it."""
    day = work.day
    if not Day.objects.filter(pk=day.pk, finisher="").update(finisher=me(), finishing=Now()):
        return None
    correction = day.outcome.get("correction")
    try:
        outcome = run_batch(
            work.listing, work.planned, work.project, work.registry, day.out_dir,
            service.edition_of(day.outcome.get("edition", "a5")),
            separators=bool(day.outcome.get("separators", True)), parts_made=True,
            earlier=_kept(day, correction) if correction else None,
        )  # fmt: skip
        if correction:
            _forget_replaced(day, outcome, correction)
    except BusyError:
        return None  # a worker that was thought gone is at it still: it ends the day
    except BaseException:
        Day.objects.filter(pk=day.pk, finisher=me()).update(finisher="")  # another may try
        raise
    return outcome


def _kept(day: Day, correction: dict[str, Any]) -> set[int]:
    """The rows of a correction whose leaflet the earlier list made and that none of its
    workers made again (the content may have changed since): 'unchanged' in the manifest."""
    found = {row for part in day.parts.all() for row in part.found}
    return set(correction["same"]) & found


def _forget_replaced(day: Day, outcome: Outcome, correction: dict[str, Any]) -> None:
    """Once a correction is made: the replaced list's outputs (its print files, manifest and
    outbox, in a folder named after it in each date's folder), and its leaflets that no list
    names any more (changed or gone), except those of patients whose row in the correction
    has a mistake: theirs stay until it is corrected."""
    for folder in day.out_dir.glob(f"*/{day.replaces_id}"):
        own_folder(folder, day.out_dir, create=False)  # never through a link
        shutil.rmtree(folder)
    held = tuple(f"{r['reference']}_" for r in correction.get("held", []))
    for manifest in outcome.manifests:
        for stray in strays(manifest.parent.parent):
            if not (held and stray.name.startswith(held)):
                stray.unlink(missing_ok=True)


FINISH_LEASES = 5  # a finisher silent for this many leases (print files take a while) is gone


def revive(waiting: Any) -> list[Day]:
    """Days that no live worker is making and for which no task waits (``waiting(day)``):
    queued days, days with a part open or silent, and days whose finisher is gone. Their
    finisher is cleared; the caller queues them again."""
    silent = Q(status=DayPart.OPEN) | Q(status=DayPart.BUSY, heartbeat__lt=silent_since())
    lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS * FINISH_LEASES)
    gone = ExpressionWrapper(Now() - Value(lease), output_field=DateTimeField())
    found = []
    for day in Day.objects.filter(status__in=[Day.QUEUED, Day.RUNNING]):
        parts = DayPart.objects.filter(day=day)
        stuck = (
            day.status == Day.QUEUED
            or parts.filter(silent).exists()
            or (
                not parts.exclude(status=DayPart.DONE).exists()
                and not Day.objects.filter(pk=day.pk, finishing__gte=gone).exclude(finisher="")
            )
        )
        if stuck and not waiting(day):
            Day.objects.filter(pk=day.pk).exclude(finishing__gte=gone).update(finisher="")
            found.append(day)
    return found
