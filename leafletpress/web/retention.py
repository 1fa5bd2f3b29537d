"""Retention: what the web app deletes, for good, once ``RETENTION_DAYS`` have passed.

Input: the clock and the database. Output: files deleted, rows marked ``purged``, an audit
event with the counts (and one per day that could not be purged, with why). Deleted: each
leaflet made for one patient, each uploaded list, each day's PDFs (patients' leaflets and
print files) and the outbox's messages; in the send log, the patients' addresses (replaced by
a keyed hash, common/keyed.py, and left out of the servers' answers); the appointment feed's
messages as received, and its appointments once their day is that far past (a day the feed
made is kept until then, however early it was booked). Kept: the manifests
(references, leaflet versions, no names), the rows that say what was made and sent, and the
audit log.

A day still being made or emailed is left alone: it is purged on the first run after it
ends. A day that cannot be purged (a link where its folder should be) is reported and left;
the others are purged all the same. Running it twice is harmless. ``manage.py opruimen``
runs it; so does the worker, daily.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..common.errors import LeafletpressError
from ..common.files import own_folder, write_atomic
from ..day.manifest import CSV_NAME, JSON_NAME, forget_refused
from ..mail.sendlog import FORGOTTEN, UNKEYED, SendLog, forgotten, rekeyed
from . import service
from .models import (
    SYSTEM,
    Day,
    Document,
    FeedAppointment,
    FeedMessage,
    Mailing,
    PatientLeaflet,
    audit,
)
from .storage import path_of

log = logging.getLogger(__name__)
KEPT = {CSV_NAME, JSON_NAME}
ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


@dataclass
class Purged:
    documents: int = 0
    days: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.documents} folder(s) en {self.days} dag(en) gewist, "
                f"{self.files} bestand(en) in totaal")  # fmt: skip


def purge(now: datetime | None = None) -> Purged:
    """Delete what is older than the retention period at ``now`` (default: the clock)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    done = Purged()
    for document in Document.objects.filter(created__lt=cutoff, purged__isnull=True):
        done.files += _remove(document.path) + _remove(document.print_path)
        Document.objects.filter(pk=document.pk).update(purged=timezone.now())
        PatientLeaflet.objects.filter(document=document).delete()  # no longer to be found
        done.documents += 1
    ended = Day.objects.exclude(status__in=BUSY)
    for day in ended.filter(created__lt=cutoff, purged__isnull=True):
        if day.feed and max(day.dates, default="") >= cutoff.date().isoformat():
            continue  # made when booked, weeks ahead: kept until its day is past as long
        done.files += _try(done, day, _purge_day)
        done.days += day.purged is not None
    for day in Day.objects.filter(purged__isnull=False):  # files a run left behind (F7)
        done.files += _try(done, day, _left_behind)
    try:
        _forget_addresses(service.send_log(), cutoff)
    except LeafletpressError as exc:  # another key: the files are deleted all the same
        done.problems.append(f"verzendlogboek: {exc}")
        audit(SYSTEM, "opruimen mislukt", detail=f"verzendlogboek: {exc}"[:300])
        log.error("opruimen mislukt: verzendlogboek: %s", exc.message)
    done.files += _stale_uploads(Path(settings.FILE_UPLOAD_TEMP_DIR), now or timezone.now())
    done.files += _orphan_lists(cutoff) + _feed(cutoff, now or timezone.now())
    if done.documents or done.days or done.files:
        audit(SYSTEM, "opgeruimd", detail=f"bewaartermijn {settings.RETENTION_DAYS} dagen: "
              f"{done}")  # fmt: skip
    return done


BUSY = (Day.QUEUED, Day.RUNNING)


def _try(done: Purged, day: Day, purging: Callable[[Day], int]) -> int:
    """One day's files; a day that cannot be purged is reported, and the others go on."""
    try:
        return purging(day)
    except (OSError, LeafletpressError) as exc:
        done.problems.append(f"dag {day.id}: {exc}")
        audit(SYSTEM, "opruimen mislukt", detail=f"dag {day.id}: {exc}")
        log.error("opruimen mislukt: dag %s: %s", day.id, exc)
        return 0


def _purge_day(day: Day) -> int:
    """A day's list and files; first marked, so that no one can start making or emailing it
    meanwhile. Read again under the lock: a day started since the run listed it, or being
    emailed, is left for the next run."""
    with transaction.atomic():
        now = Day.objects.select_for_update().filter(pk=day.pk).first()
        if now is None or now.status in BUSY or now.purged:
            return 0
        if Mailing.objects.filter(day=day, status__in=[Mailing.QUEUED, Mailing.RUNNING]):
            return 0
        day.purged = timezone.now()
        # a refused row's problems quote its cells (a name typed as a campus): only its number
        refused = [{"row": r["row"], "problems": []} for r in now.outcome.get("refused", [])]
        kept = now.outcome | {"refused": refused}
        Day.objects.filter(pk=day.pk).update(purged=day.purged, outcome=kept)
        PatientLeaflet.objects.filter(day=day).delete()
    try:
        return _remove(day.upload) + _files_of(day)
    except BaseException:
        Day.objects.filter(pk=day.pk).update(purged=None)  # tried again on the next run
        day.purged = None
        raise


def _left_behind(day: Day) -> int:
    """A purged day's files still on disk (a run stopped halfway, or an older version's
    race with a worker): deleted now; nothing when there are none."""
    if Day.objects.filter(pk=day.pk, status__in=BUSY).exists():
        return 0
    return _remove(day.upload) + _files_of(day)


def _files_of(day: Day) -> int:
    """A day's folder, emptied; not while a correction of the day, made in the same folder,
    is kept (it is emptied with the last of them)."""
    return 0 if day.folder_shared() else _empty(day.out_dir)


def _remove(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        path.unlink()
        return 1
    return 0


def _empty(folder: Path) -> int:
    """Every file of a day's folder but its manifests; then its empty folders. Never through
    a link (own_folder refuses one where the folder should be)."""
    if not os.path.lexists(folder):
        return 0
    own_folder(folder, Path(settings.SHARED), create=False)
    removed = 0
    for top, _, files in os.walk(folder, topdown=False):  # links inside are not followed
        removed += sum(_remove(Path(top, name)) for name in files if name not in KEPT)
        if JSON_NAME in files:
            forget_refused(Path(top))
        if top != str(folder) and not os.listdir(top):
            os.rmdir(top)
    return removed


def _orphan_lists(cutoff: datetime) -> int:
    """Uploaded lists older than the retention period that no day holds (an upload that
    failed after its file was written)."""
    folder = Path(settings.SHARED) / "lijsten"
    if not folder.is_dir():
        return 0
    days = {str(pk).replace("-", "") for pk in Day.objects.values_list("id", flat=True)}
    return sum(
        _remove(path) for path in folder.iterdir()
        if path.stem.replace("-", "") not in days and path.lstat().st_mtime < cutoff.timestamp()
    )  # fmt: skip


def _feed(cutoff: datetime, now: datetime) -> int:
    """The appointment feed's. Each message as received, once it is that old, and the
    reason it was answered with (it may quote a cell). What a leaflet needed of a message:
    once no appointment is described by it any more; of an appointment whose day is past
    the retention period, the patient's name, birth date and address go, and what its
    discharge leaflet needs (leaflet, surgeon, campus, day) stays for ``LONGEST_STAY`` (a
    discharge message brings the patient's details again). The files of a message whose
    storing was interrupted (its transaction never committed)."""
    gone = FeedAppointment.objects.filter(
        Q(date__lt=(cutoff - LONGEST_STAY).date()) | Q(cancelled=True, updated__lt=cutoff)
    )
    removed = sum(_remove(path_of(m.event_name)) for m in FeedMessage.objects.filter(
        pk__in=gone.values("message_id")))  # fmt: skip
    gone.delete()
    ended = FeedAppointment.objects.filter(date__lt=cutoff.date())
    past = set(ended.values_list("message_id", flat=True))
    described = set(FeedAppointment.objects.values_list("message_id", flat=True))
    for message in FeedMessage.objects.filter(received__lt=cutoff, purged__isnull=True):
        removed += _remove(path_of(message.raw_name))
        if message.pk in described and message.pk not in past:
            continue  # its appointment is still to come: the leaflet needs it whole
        if message.pk in past:
            _scrub(path_of(message.event_name))
        else:
            removed += _remove(path_of(message.event_name))
        FeedMessage.objects.filter(pk=message.pk).update(purged=now, reason="")
    return removed + _interrupted(now)


LONGEST_STAY = timedelta(days=60)  # after the operation's day: a discharge still finds it


def _scrub(event: Path) -> None:
    """What a leaflet needed of a message, without the patient's name, birth date and
    address (the discharge message gives them again)."""
    if event.is_file():
        kept = json.loads(event.read_text(encoding="utf-8"))
        kept |= {"name": "", "birth_date": "", "email": ""}
        write_atomic(event, json.dumps(kept, ensure_ascii=False, sort_keys=True).encode())


def _interrupted(now: datetime) -> int:
    """A message's files whose storing never committed: no message row names them."""
    folder = Path(settings.SHARED) / "koppeling"
    if not folder.is_dir():
        return 0
    known = {str(pk) for pk in FeedMessage.objects.values_list("id", flat=True)}
    return sum(
        _remove(path) for path in folder.iterdir()
        if path.name.split(".")[0] not in known
        and path.lstat().st_mtime < (now - STORING).timestamp()
    )  # fmt: skip


STORING = timedelta(hours=1)  # longer than any message takes to store


def stale_local_files(now: datetime | None = None) -> int:
    """This machine's leftovers in its data folder's tmp/ (``_stale_uploads``): run by the
    daily retention on the worker that runs it, and by ``hervat`` on every machine at start."""
    return _stale_uploads(Path(settings.FILE_UPLOAD_TEMP_DIR), now or timezone.now())


def _stale_uploads(folder: Path, now: datetime) -> int:
    """Uploads spooled more than a day ago (a web worker died while receiving them), and the
    staging folders of a backup or restore killed outright (backup.py): their files."""
    if not folder.is_dir():
        return 0
    stale, removed = (now - timedelta(days=1)).timestamp(), 0
    for path in folder.iterdir():
        if path.lstat().st_mtime >= stale:
            continue
        if path.is_dir() and not path.is_symlink():
            removed += sum(1 for p in path.rglob("*") if p.is_file() or p.is_symlink())
            shutil.rmtree(path, ignore_errors=True)
        else:
            removed += _remove(path)
    return removed


def _forget_addresses(log: Path, cutoff: datetime) -> None:
    """The send log keeps what was sent when, but after the retention period no longer to
    which address: not in its recipient, not in the server's answer."""
    if not log.is_file():
        return
    sendlog = SendLog(log)  # a regular file, never through a link
    try:
        sendlog.check_key()  # the key forgotten addresses are hashed with, from the first run
        sendlog.db.create_function("forget", 1, forgotten, deterministic=True)
        sendlog.db.create_function("rekey", 1, rekeyed, deterministic=True)
        sendlog.db.create_function("scrub", 1, _scrubbed, deterministic=True)
        with sendlog.db:
            sendlog.db.execute(
                "UPDATE attempts SET recipient = forget(recipient), response = scrub(response)"
                f" WHERE started < ? AND recipient NOT LIKE '{FORGOTTEN}%'"
                f" AND recipient NOT LIKE '{UNKEYED}%'",
                (cutoff.astimezone(UTC).isoformat(timespec="seconds"),),
            )
            sendlog.db.execute(  # forgotten by an older version: keyed now (F10)
                "UPDATE attempts SET recipient = rekey(recipient)"
                f" WHERE recipient LIKE '{UNKEYED}%'"
            )
    finally:
        sendlog.close()


def _scrubbed(answer: str | None) -> str | None:
    return ADDRESS.sub("<adres>", answer) if answer else answer
