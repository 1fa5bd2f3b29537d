"""Retention: what the web app deletes, for good, once ``RETENTION_DAYS`` have passed.

Input: the clock and the database. Output: files deleted, rows marked ``purged``, one audit
event with the counts. Deleted: each leaflet made for one patient, each uploaded list, each
day's PDFs (patients' leaflets and print files) and the outbox's messages; in the day's send
log the patients' addresses are replaced by their SHA-256. Kept: the manifests (references,
leaflet versions, no names), the rows that say what was made and sent, and the audit log.

A day still queued or being made is left alone: it is purged on the first run after it ends.
Running it twice is harmless. ``manage.py opruimen`` runs it; so does the worker, daily.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..day.manifest import CSV_NAME, JSON_NAME
from ..mail.sendlog import SEND_LOG
from .models import Day, Document, audit

KEPT = {CSV_NAME, JSON_NAME, SEND_LOG}


@dataclass
class Purged:
    documents: int = 0
    days: int = 0
    files: int = 0

    def __str__(self) -> str:
        return (f"{self.documents} folder(s) en {self.days} dag(en) gewist, "
                f"{self.files} bestand(en) in totaal")  # fmt: skip


def purge(now: datetime | None = None) -> Purged:
    """Delete what is older than the retention period at ``now`` (default: the clock)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    done = Purged()
    for document in Document.objects.filter(created__lt=cutoff, purged__isnull=True):
        done.files += _remove(document.path)
        Document.objects.filter(pk=document.pk).update(purged=timezone.now())
        done.documents += 1
    ended = Day.objects.exclude(status__in=[Day.QUEUED, Day.RUNNING])
    for day in ended.filter(created__lt=cutoff, purged__isnull=True):
        done.files += _remove(day.upload) + _empty(day.out_dir)
        _forget_addresses(day.out_dir / SEND_LOG)
        Day.objects.filter(pk=day.pk).update(purged=timezone.now())
        done.days += 1
    if done.documents or done.days:
        audit("systeem", "opgeruimd", detail=f"bewaartermijn {settings.RETENTION_DAYS} dagen: "
              f"{done}")  # fmt: skip
    return done


def _remove(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        path.unlink()
        return 1
    return 0


def _empty(folder: Path) -> int:
    """Every file of a day's folder but its manifests and send log; then its empty folders."""
    removed = 0
    for top, _, files in os.walk(folder, topdown=False):  # never through a link
        removed += sum(_remove(Path(top, name)) for name in files if name not in KEPT)
        if top != str(folder) and not os.listdir(top):
            os.rmdir(top)
    return removed


def _forget_addresses(log: Path) -> None:
    """The send log keeps what was sent when, but no longer to which address."""
    if not log.is_file():
        return
    db = sqlite3.connect(log, timeout=30)
    try:
        db.create_function("forget", 1, _hashed, deterministic=True)
        with db:
            db.execute("UPDATE attempts SET recipient = forget(recipient) "
                       "WHERE recipient NOT LIKE 'sha256:%'")  # fmt: skip
    finally:
        db.close()


def _hashed(address: str) -> str:
    return "sha256:" + hashlib.sha256(address.encode()).hexdigest()
