"""Work for the workers (django-tasks, database backend): clinic days, emailing a day's
leaflets to the patients, the daily retention run, and the watch.

A day is shared by the free workers (days.py); the engine's journal makes it resumable. When
every worker stopped mid-day, the watch (every half lease) or ``manage.py hervat`` (run by
``manage.py werk`` as each worker starts) queues the day again, and it finishes without
making anything twice. An email run is resumed the same way; its send log keeps anything
from going out twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import is_locked_database_exception

from ..common.errors import BusyError, LeafletpressError
from ..common.files import own_folder
from ..day.batch import Outcome, side_by_side
from ..day.manifest import JSON_NAME, MADE, read_manifest
from ..day.workers import warm_up
from ..mail.sending import run_email
from . import days, feed, service
from .models import Day, Mailing, audit

log = logging.getLogger(__name__)  # what needs someone's attention (docs/install.md, Logs)
PURGED = "de bestanden van deze dag zijn gewist (bewaartermijn)"
REPLACED = "deze lijst werd vervangen door een verbeterde lijst: verstuur de folders van die lijst"
CANCELLED = "alle afspraken van deze lijst werden geannuleerd in het ziekenhuissysteem"


@task()
def make_day(day_id: str) -> None:
    """Help make a day: claim its parts until none is left (days.py); whoever ends the last
    part makes the print files and manifests. Queued once per free worker it may need; a day
    left by workers that all stopped is queued again by ``watch``."""
    day = Day.objects.get(pk=day_id)
    if day.purged and day.status in (Day.QUEUED, Day.RUNNING):  # an older version's race
        Day.objects.filter(pk=day.pk).update(status=Day.FAILED, finished=timezone.now(),
                                             error=PURGED)  # fmt: skip
        return  # the next retention run deletes what it had made
    if day.status not in (Day.QUEUED, Day.RUNNING):
        return  # made already, failed, or never asked for
    Day.objects.filter(pk=day.pk, status=Day.QUEUED).update(status=Day.RUNNING,
                                                            started=timezone.now())  # fmt: skip
    own_folder(day.out_dir, Path(settings.SHARED))  # owner-only, like everything it holds
    try:
        with _stop_between_leaflets():
            finished = _take_part(day)
    except LeafletpressError as exc:
        Day.objects.filter(pk=day.pk, status=Day.RUNNING).update(
            status=Day.FAILED, error=str(exc), finished=timezone.now()
        )
        log.error("dag %s mislukt: %s", day.id, exc.message)
        return
    if finished is not None:
        _done(day, finished)


def _take_part(day: Day) -> Outcome | None:
    """Parts until none is left; then the print files and manifests, if no part is left
    with another worker (and this one was not asked to stop)."""
    if day.parts.exists() and not days.claimable(day) and not days.needs_finisher(day):
        return None  # a helper that came too late: the others end the day
    work = days.Work.of(day)
    warm_up(0, None, side_by_side(work.planned, day.out_dir))  # for the print files, at the end
    parts = days.cut(work)
    for _ in range(min(parts - 1, settings.WORKER_HELPERS)):
        make_day.enqueue(str(day.id))  # other workers join in
    while (part := days.claim(day, from_the_end=not parts)) is not None:
        try:
            days.make_part(work, part)
        except days.TakenOver:
            continue
        except days.Stopping:
            return None  # the part is handed back; the worker ends after this task
    if days.unfinished(day) or days.STOPPING.is_set():
        return None  # a part is with another worker, which ends the day
    return days.finish(work)


@contextlib.contextmanager
def _stop_between_leaflets() -> Iterator[None]:
    """SIGTERM (or Ctrl-C) while a day is made: the worker's own handler still runs (it ends
    the worker after this task), and the day's part stops at the next leaflet."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    days.STOPPING.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum: int, frame: Any) -> None:
        days.STOPPING.set()
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def queued(task_name: str, *args: Any) -> Any:
    """Such tasks queued and not yet started."""
    return DBTaskResult.objects.filter(task_path=f"{__name__}.{task_name}",
                                       status=TaskResultStatus.READY,
                                       args_kwargs__args=list(args))  # fmt: skip


def waiting(task_name: str, *args: Any) -> bool:
    """Whether such a task is queued and not yet started."""
    return queued(task_name, *args).exists()


@task()
def watch() -> None:
    """Every half lease: a day whose workers all stopped (killed, their machines gone) is
    queued again; the appointment feed's days are made and emailed when their time comes;
    and this watch and the daily retention run stay queued."""
    try:
        for day in days.revive(lambda day: waiting("make_day", str(day.id))):
            log.warning(
                "dag %s: geen werker meer (gestopt of machine weg); weer in de wachtrij", day.id
            )
            make_day.enqueue(str(day.id))
        feed.timing()
    finally:
        patiently(keep_watching)


def patiently(action: Callable[[], None], tries: int = 60) -> None:
    """``action``, again each second while the database is locked (SQLite, while another
    process writes at length): the watch and the retention run must never be lost to it."""
    for attempt in range(tries):
        try:
            action()
            return
        except OperationalError as exc:
            if not is_locked_database_exception(exc) or attempt == tries - 1:
                raise
            time.sleep(1)


def keep_watching(now: bool = False) -> None:
    """Queue the watch (every half lease; ``now``: at once, as a worker starts, so /gezond/
    sees it alive within seconds) and the retention run, unless they are queued."""
    later = timezone.now() + timedelta(
        seconds=0 if now else max(5, settings.WORKER_LEASE_SECONDS / 2)
    )
    if not waiting("watch"):
        watch.using(run_after=later).enqueue()
    schedule_clean_up(timezone.now())


COUNTS = {  # the counts of a day and of a mailing, in the audit log's words
    "made": "gemaakt", "unchanged": "al gemaakt", "refused": "geweigerd", "failed": "mislukt",
    "sent": "verstuurd", "already": "al verstuurd", "uncertain": "onzeker",
    "unaddressed": "zonder adres", "not_tried": "niet geprobeerd",
}  # fmt: skip


def _done(day: Day, outcome: Outcome) -> None:
    listed = _listed(day.out_dir, outcome.print_files, outcome.manifests) | {
        "edition": day.outcome.get("edition", "a5"),
        "separators": day.outcome.get("separators", True),
        "refused": day.outcome.get("refused", []),
        "failed": [{"row": row, "problem": problem} for row, problem in outcome.failed],
    }
    for kept in ("correction", "feed", "checked"):  # what changed; the feed's codes; who looked
        if kept in day.outcome:
            listed[kept] = day.outcome[kept]
    Day.objects.filter(pk=day.pk, status=Day.RUNNING).update(
        status=Day.DONE, outcome=listed, finished=timezone.now(), done=day.total
    )
    made = [r for m in outcome.manifests if m.name == JSON_NAME for r in service.covered(m)]
    said = ", ".join(f"{n} {COUNTS.get(k, k)}" for k, n in listed["counts"].items())
    audit(day.made_by, "dag klaar", detail=f"dag {day.id}: {said or 'niets gemaakt'}", covers=made,
          service=day.services)  # fmt: skip


@task()
def email_day(mailing_id: int) -> None:
    """Send a finished day's leaflets with the CLI's email run (``--send``), on the web app's
    one send log: nothing accepted goes out twice, so a run that stopped (or whose worker
    died: ``manage.py hervat`` queues it again) is simply run again. Each message is audited
    the moment the server accepted it."""
    mailing = Mailing.objects.select_related("day", "started_by").get(pk=mailing_id)
    if not mailing.busy:
        return
    try:
        counts, stopped = _send(mailing)
    except BusyError:
        return  # another worker is sending this day now: it ends the mailing
    except LeafletpressError as exc:
        counts, stopped = {}, exc.message + (f" — {exc.hint}" if exc.hint else "")
    except Exception as exc:  # a bug: the mailing must not stay "bezig" for ever
        Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.FAILED,
            stopped=f"interne fout ({type(exc).__name__}); meld dit als programmafout",
            finished=timezone.now())  # fmt: skip
        raise
    status = Mailing.FAILED if stopped else Mailing.DONE
    if stopped:
        log.error("e-mail van dag %s gestopt: %s", mailing.day.id, stopped)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=status, counts=counts, stopped=stopped, finished=timezone.now()
    )
    said = ", ".join(f"{n} {COUNTS.get(k, k)}" for k, n in counts.items() if n)
    audit(mailing.started_by, "e-mail klaar", detail=f"dag {mailing.day.id}: {said}"[:300],
          service=mailing.day.services)  # fmt: skip


def _send(mailing: Mailing) -> tuple[dict[str, int], str]:
    """Every manifest of the day in turn; the counts, and why it stopped if it did."""
    day = mailing.day
    if Day.objects.filter(pk=day.pk, purged__isnull=False).exists():
        return {}, PURGED
    if day.replaced() is not None:
        return {}, REPLACED
    if day.outcome.get("cancelled"):
        return {}, CANCELLED
    manifests = service.day_manifests(day)
    sizes = [sum(r["status"] in MADE for r in read_manifest(m)["leaflets"]) for m in manifests]
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.RUNNING, total=sum(sizes))
    counts: dict[str, int] = {}
    offset = 0

    def sent(row: int, reference: str) -> None:  # what left the hospital, as it left
        audit(mailing.started_by, "folder gemaild", reference, detail=f"dag {day.id}, rij {row}",
              service=day.services)  # fmt: skip

    for manifest, size in zip(manifests, sizes, strict=True):
        report = run_email(
            manifest, day.upload, service.project(), service.registry(), send=True,
            shown=day.source_name, on_progress=_mailing_progress(mailing, offset),
            on_sent=sent, send_log=service.send_log(),
        )  # fmt: skip
        offset += size
        for name in COUNTED:
            counts[name] = counts.get(name, 0) + len(getattr(report, name))
        if report.stopped:
            return counts, report.stopped
    return counts, ""


COUNTED = ("sent", "already", "uncertain", "unaddressed", "refused", "failed", "not_tried")


def _mailing_progress(mailing: Mailing, offset: int) -> Callable[[int, int], None]:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            Mailing.objects.filter(pk=mailing.pk).update(done=offset + done)

    return progress


@task()
def build_feed_day(on: str, moment: str) -> None:
    """The appointment feed's lists of one day, as its appointments now stand (feed.py);
    again a little later while an earlier version is being made or emailed."""
    if not feed.build(date.fromisoformat(on), moment):
        feed.schedule([(date.fromisoformat(on), moment)], seconds=feed.AGAIN_SECONDS)


@task()
def clean_up() -> None:
    """The daily retention run (retention.py); it queues itself again for the next day."""
    from .retention import purge

    try:
        purge()
    finally:  # whatever happened today, tomorrow's run is queued
        patiently(lambda: schedule_clean_up(timezone.now() + timedelta(days=1)))


def schedule_clean_up(at: datetime) -> None:
    """Queue the retention run for ``at``, unless one is queued already."""
    if not waiting("clean_up"):
        clean_up.using(run_after=at).enqueue()


def _listed(root: Path, prints: list[Path], manifests: list[Path]) -> dict[str, Any]:
    """What the results page offers, by name, with paths relative to the day's folder."""
    leaflets, warnings, counts = [], [], {}
    for manifest in [m for m in manifests if m.name == JSON_NAME]:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for key, value in data["batch"]["counts"].items():
            counts[key] = counts.get(key, 0) + value
        pdfs = manifest.parent.parent
        for record in data["leaflets"]:
            if record.get("file") and record["status"] in ("made", "unchanged"):
                item = _item(root, pdfs / record["file"], f"rij {record['row']}")
                leaflets.append(item | {"row": record["row"]})
            if record.get("warnings"):
                warnings.append({"row": record["row"], "reference": record["reference"],
                                 "warnings": record["warnings"]})  # fmt: skip
    return {
        "print_files": [_named(_item(root, p, ""), "afdruk") for p in prints],
        "manifests": [_named(_item(root, m, ""), "manifest") for m in manifests],
        "leaflets": leaflets,
        "warnings": warnings,
        "counts": counts,
    }


def _named(item: dict[str, str], kind: str) -> dict[str, str]:
    """A day's file as she knows it: '2026-12-15 ZAS Cadix afdruk', '2026-12-15 overzicht
    (voor Excel)' (issue 24, item 12), as its download is named."""
    shown = Path(service.download_name(kind, item))
    what = {".csv": " (voor Excel)", ".json": " (voor programma's)"}.get(shown.suffix, "")
    return item | {"label": f"{shown.stem}{what}"}


def _item(root: Path, path: Path, label: str) -> dict[str, str]:
    """A file the results page offers: its name, what tells it apart, where it is."""
    return {
        "name": path.name,
        "label": f"{label}: {path.name}",
        "path": str(path.relative_to(root)),
    }
