"""A clinic day made by every worker that is free, on one machine or several.

Input: a Day whose list was checked and queued. Output: its leaflets, print files and
manifests in the shared storage, and the Day marked done (or failed, with the engine's
message). The day's rows are cut into parts (``DayPart``) in the database; each worker claims
one part at a time, makes its leaflets with the engine's ``render_part`` and says it is alive
after every few. A part whose worker fell silent for ``WORKER_LEASE_SECONDS`` (killed, its
machine gone) is claimed by another worker, which skips what was journaled: every leaflet is
made once. The worker that finishes the last part makes the print files and manifests with
``run_batch``, which finds every leaflet made.

Guarantees: a part has one worker at a time (claims are conditional updates on its row); a
worker whose part was taken over stops between two leaflets; the day is finished once.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ..common.errors import BusyError
from ..day.batch import render_part, run_batch
from ..visit.daylist import DayList, read_day_list
from ..visit.plan import Plan, plan
from . import service
from .models import Day, DayPart

PART_ROWS = 10  # leaflets a worker takes at a time: small enough to share, big enough to warm


def me() -> str:
    """This worker: its machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class TakenOver(Exception):
    """This worker was silent too long: another one has its part now."""


@dataclass
class Work:
    """A day as a worker sees it: its list, its plan, and what it is made into."""

    day: Day
    listing: DayList
    planned: Plan

    @classmethod
    def of(cls, day: Day) -> Work:
        project = service.project()
        listing = read_day_list(day.upload, project, shown=day.source_name)
        return cls(day, listing, plan(listing, project, service.registry(), date.today()))


def cut(work: Work) -> int:
    """Cut the day into parts, once: rows that share a leaflet text side by side."""
    with transaction.atomic():
        Day.objects.select_for_update().filter(pk=work.day.pk).first()  # one cutter at a time
        if work.day.parts.exists():
            return 0
        rows = [e.row for e in sorted(work.planned.entries, key=_text_of)]
        parts = [rows[i : i + PART_ROWS] for i in range(0, len(rows), PART_ROWS)]
        DayPart.objects.bulk_create(
            DayPart(day=work.day, number=n, rows=part) for n, part in enumerate(parts)
        )
        return len(parts)


def _text_of(entry: Any) -> tuple[str, str, str, str, int]:
    p = entry.p
    return (p.leaflet.meta.code, p.visit.variant, p.leaflet.lang, p.visit.moment, entry.row)


def claim(day: Day) -> DayPart | None:
    """An open part of the day, or one whose worker fell silent; None if there is none."""
    silent = timezone.now() - timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    free = Q(status=DayPart.OPEN) | Q(status=DayPart.BUSY, heartbeat__lt=silent)
    for part in DayPart.objects.filter(day=day).filter(free):
        same = {"status": part.status, "worker": part.worker, "claims": part.claims}
        taken = DayPart.objects.filter(pk=part.pk, **same).update(
            status=DayPart.BUSY, worker=me(), claims=part.claims + 1,
            heartbeat=timezone.now(), done=0,
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

    def alive() -> None:
        if not mine.update(heartbeat=timezone.now()):
            raise TakenOver(part.pk)

    def progress(done: int, total: int) -> None:
        mine.update(done=done)
        _progress(work.day)

    results = render_part(
        work.planned, set(part.rows), service.project(), service.registry(),
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


def finish(work: Work) -> dict[str, Any] | None:
    """Print files and manifests, by one worker only; None if another one has it."""
    day = work.day
    if not Day.objects.filter(pk=day.pk, finisher="").update(finisher=me()):
        return None
    try:
        outcome = run_batch(
            work.listing, work.planned, service.project(), service.registry(), day.out_dir,
            service.edition_of(day.outcome.get("edition", "a5")),
            separators=bool(day.outcome.get("separators", True)), parts_made=True,
        )  # fmt: skip
    except BusyError:
        return None  # a worker that was thought gone is at it still: it ends the day
    except BaseException:
        Day.objects.filter(pk=day.pk, finisher=me()).update(finisher="")  # another may try
        raise
    return {"outcome": outcome, "root": Path(day.out_dir)}
