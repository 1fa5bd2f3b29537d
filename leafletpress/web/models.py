"""What the web app keeps: leaflets made for one patient, clinic days, and the audit log.

Patients appear by reference (or pseudonym) only, never by name. Files live in the shared
storage (storage.py) under random ids; their paths are never shown or guessable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from .signin import UNKNOWN
from .storage import path_of


class Document(models.Model):
    """One patient's leaflet, made from the form."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    who = models.CharField(max_length=40)  # reference or pseudonym
    leaflet = models.CharField(max_length=40)
    variant = models.CharField(max_length=40)
    moment = models.CharField(max_length=10)
    language = models.CharField(max_length=5)
    edition = models.CharField(max_length=20)
    pages = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    warnings = models.JSONField(default=list)
    purged = models.DateTimeField(null=True)  # its PDF deleted at the end of the retention
    service = models.CharField(max_length=120, blank=True)  # the leaflet's: who may see it

    @property
    def name(self) -> str:  # in the shared storage: the patient's copy, tagged
        return f"folders/{self.id}.pdf"

    @property
    def path(self) -> Path:
        return path_of(self.name)

    @property
    def booklet(self) -> bool:
        """Made as a booklet: a print file (imposed, untagged) beside the patient's copy. A
        booklet made before there was a patient's copy has its print file only."""
        return self.edition == "booklet" and self.print_path.is_file()

    @property
    def print_name(self) -> str:
        return f"folders/{self.id}-boekje.pdf"

    @property
    def print_path(self) -> Path:
        return path_of(self.print_name)


class Day(models.Model):
    """A clinic day's list: checked, then made by the worker."""

    CHECKED, QUEUED, RUNNING, DONE, FAILED = (
        "gecontroleerd",
        "wachtrij",
        "bezig",
        "klaar",
        "mislukt",
    )
    STATUSES = [(s, s) for s in (CHECKED, QUEUED, RUNNING, DONE, FAILED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    source_name = models.CharField(max_length=120)  # as uploaded, shown to the user only
    suffix = models.CharField(max_length=5)  # .csv or .xlsx: the stored file is <id><suffix>
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(default=0)  # bytes, for the upload quota
    services = models.JSONField(default=list)  # of its leaflets: who may see the day
    dates = models.JSONField(default=list)  # the appointments' days (ISO), for the lists
    rows = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=15, choices=STATUSES, default=CHECKED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started = models.DateTimeField(null=True)
    finished = models.DateTimeField(null=True)
    outcome = models.JSONField(default=dict)  # files made, failures, warnings (no names)
    error = models.TextField(blank=True)
    purged = models.DateTimeField(null=True)  # list and PDFs deleted; the manifests are kept
    finisher = models.CharField(max_length=100, blank=True)  # who makes the print files
    finishing = models.DateTimeField(null=True)  # since when
    # A corrected list replaces the earlier upload of its day (issue 24, item 2): it is made
    # in that day's folder, where the engine's journal keeps every unchanged leaflet.
    replaces = models.OneToOneField("self", null=True, on_delete=models.SET_NULL,
                                    related_name="replaced_by")  # fmt: skip
    folder = models.CharField(max_length=36, blank=True)  # the first upload's id, or ours
    # The approved content it is made with (a commit of the content's history), fixed when
    # it is queued: an approval during the day does not change it (issue 26, item 5).
    content = models.CharField(max_length=40, blank=True)
    # A list the appointment feed made (feed.py): "<date>|<moment>|<service>". Its latest
    # version is the day; each change of an appointment makes a new one that replaces it.
    feed = models.CharField(max_length=200, blank=True, db_index=True)

    @property
    def upload_name(self) -> str:  # in the shared storage
        return f"lijsten/{self.id}{self.suffix}"

    @property
    def upload(self) -> Path:
        return path_of(self.upload_name)

    @property
    def out_dir(self) -> Path:  # the engine makes the day here
        return path_of(f"dagen/{self.folder or self.id}")

    def replaced(self) -> Day | None:
        """The corrected list that replaced this one, once it is made."""
        newer = Day.objects.filter(replaces=self, status=Day.DONE).first()
        return newer

    def folder_shared(self) -> bool:
        """Whether a day not yet purged (a correction of this one) makes its leaflets in
        this day's folder: purging this day then deletes its list only."""
        mine = self.folder or str(self.id)
        others = Day.objects.filter(models.Q(folder=mine) | models.Q(pk=mine))
        return others.exclude(pk=self.pk).filter(purged__isnull=True).exists()


class DayPart(models.Model):
    """Some rows of a day, for one worker at a time. A worker claims a part, says it is alive
    after each few leaflets (``heartbeat``) and marks it done; a part whose worker has been
    silent for ``WORKER_LEASE_SECONDS`` is taken over by another, which skips the leaflets
    already journaled. ``made`` and ``found`` say which rows this part made, and which it
    found made by a worker that stopped."""

    OPEN, BUSY, DONE = "open", "bezig", "klaar"

    day = models.ForeignKey(Day, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    rows = models.JSONField()
    status = models.CharField(max_length=10, default=OPEN, db_index=True)
    worker = models.CharField(max_length=100, blank=True)  # host:pid of the last claimer
    claims = models.PositiveIntegerField(default=0)
    heartbeat = models.DateTimeField(null=True)
    done = models.PositiveIntegerField(default=0)  # leaflets done so far, for the progress
    made = models.JSONField(default=list)
    found = models.JSONField(default=list)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["day", "number"], name="one_part_number")]


class PatientLeaflet(models.Model):
    """One leaflet the app made for a patient, by a day's row or the one-patient form: where
    the search and the check for a second leaflet of the same day look (issue 24, items 3
    and 4). No name: the keyed hashes of its words (``name_words``), so a search by name
    matches without the database ever holding it."""

    day = models.ForeignKey(Day, null=True, on_delete=models.CASCADE, related_name="patients")
    row = models.PositiveIntegerField(null=True)
    document = models.OneToOneField(Document, null=True, on_delete=models.CASCADE,
                                    related_name="patient")  # fmt: skip
    who = models.CharField(max_length=40)  # reference, or pseudonym
    reference = models.CharField(max_length=40, blank=True, db_index=True)  # lower case
    name_words = models.TextField()  # " k1 k2 ": keyed hashes of the name's words
    date = models.DateField(db_index=True)  # of the moment: the operation's, or the discharge's
    time = models.TimeField(null=True)
    site = models.CharField(max_length=40)
    leaflet = models.CharField(max_length=40)
    variant = models.CharField(max_length=40)
    moment = models.CharField(max_length=10)
    language = models.CharField(max_length=5)
    service = models.CharField(max_length=120, blank=True)
    made = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "time", "row"]


class Mailing(models.Model):
    """One "Verstuur" of a finished day's leaflets, run by the worker. What happened to each
    message is in the day's send log (the CLI's); this row holds the run's progress."""

    QUEUED, RUNNING, DONE, FAILED = Day.QUEUED, Day.RUNNING, Day.DONE, Day.FAILED
    STATUSES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]

    day = models.ForeignKey(Day, on_delete=models.CASCADE, related_name="mailings")
    created = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    status = models.CharField(max_length=15, choices=STATUSES, default=QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    finished = models.DateTimeField(null=True)
    counts = models.JSONField(default=dict)  # sent, already, unaddressed, refused ... (no names)
    stopped = models.TextField(blank=True)  # why sending stopped early, if it did

    class Meta:
        ordering = ["-created"]

    @property
    def busy(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING)


class Draft(models.Model):
    """A change to one file of the content folder (a leaflet in one language, the campuses or
    the surgeons), from its first keystroke until it is approved (a commit in the content's
    history, content/history.py) or withdrawn. Never printed: only approved files are.

    One open draft per file: two editors share it, and each save names the ``revision`` it
    was typed on, so that one never silently overwrites the other."""

    EDITING, SUBMITTED = "bewerken", "ter goedkeuring"
    APPROVED, WITHDRAWN = "goedgekeurd", "ingetrokken"
    OPEN = (EDITING, SUBMITTED)
    STATUSES = [(s, s) for s in (EDITING, SUBMITTED, APPROVED, WITHDRAWN)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    path = models.CharField(max_length=120)  # leaflets/avn-hip/nl.md, config/surgeons.yaml
    text = models.TextField()
    base = models.CharField(max_length=40)  # the approved version it was begun from
    revision = models.PositiveIntegerField(default=1)  # one more at every save
    status = models.CharField(max_length=20, choices=STATUSES, default=EDITING)
    created = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")  # fmt: skip
    saved = models.DateTimeField(auto_now=True)
    saved_by = models.CharField(max_length=150)
    editors = models.JSONField(default=list)  # every account that typed in it: none approves
    note = models.TextField(blank=True)  # the author's change note, asked for on submitting
    comment = models.TextField(blank=True)  # why it was sent back
    commented_by = models.CharField(max_length=150, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decided = models.DateTimeField(null=True)
    commit = models.CharField(max_length=40, blank=True)  # the approved version it became
    version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-saved"]
        constraints = [
            models.UniqueConstraint(
                fields=["path"],
                condition=models.Q(status__in=("bewerken", "ter goedkeuring")),
                name="one_open_draft_per_file",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class FeedMessage(models.Model):
    """One message from the hospital system (HL7 v2 over MLLP, or a FHIR Appointment),
    stored before it is acknowledged: a message sent again (the same control id, after a lost
    acknowledgement) is recognised and never applied twice. No patient fields here: what a
    leaflet needs of it is in ``event_name`` (storage), the message as received in
    ``raw_name``; both are deleted at the end of the retention period."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    received = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=10)  # hl7 or fhir
    sender = models.CharField(max_length=100)  # its address (and FHIR: the account)
    control = models.CharField(max_length=210, unique=True)  # "<channel>:<control id>"
    digest = models.CharField(max_length=64, blank=True)  # what it says (Event.digest)
    kind = models.CharField(max_length=30)  # SIU^S12, ADT^A03, FHIR Appointment
    appointment = models.CharField(max_length=120, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=2)  # AA or AE (HL7's words; AR: never stored)
    reason = models.TextField(blank=True)  # in Dutch, as answered
    purged = models.DateTimeField(null=True)  # its files deleted (retention)

    class Meta:
        ordering = ["-received"]

    @property
    def raw_name(self) -> str:  # in the shared storage
        return f"koppeling/{self.id}.bericht"

    @property
    def event_name(self) -> str:
        return f"koppeling/{self.id}.json"


class FeedAppointment(models.Model):
    """An appointment as the hospital system last described it: which message holds its
    fields, which day's list it is on, and whether it was cancelled."""

    key = models.CharField(max_length=130, unique=True)  # the system's id ("/ontslag": discharge)
    message = models.ForeignKey(FeedMessage, on_delete=models.PROTECT, related_name="+")
    sent = models.CharField(max_length=20, blank=True)  # when that message was sent (ISO)
    date = models.DateField(db_index=True)  # of the list it is on (operation or discharge)
    moment = models.CharField(max_length=10)
    reference = models.CharField(max_length=40, db_index=True)
    cancelled = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)


class AuditEvent(models.Model):
    """Who did what, when, to which reference and leaflet: never a name. Append-only.

    An event about many patients at once (a day made, a print file downloaded) names them in
    ``covers``, so that "who saw or printed patient X?" finds it too."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150)  # the account name, kept if the account goes
    account = models.IntegerField(null=True)  # its id: a name can be given to someone else
    action = models.CharField(max_length=40)
    reference = models.CharField(max_length=40, blank=True)
    leaflet = models.CharField(max_length=80, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    service = models.CharField(max_length=250, blank=True)  # whose patients (need to know)
    covers = models.TextField(blank=True)  # " PAT-1 PAT-2 ": the references, space-delimited

    @property
    def covered(self) -> list[str]:
        return self.covers.split()

    class Meta:
        ordering = ["-at", "-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("het auditlog kan niet gewijzigd worden")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("het auditlog kan niet gewist worden")


REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")  # as the engine allows them


class DirectorySubject(models.Model):
    """The person an OpenID Connect account belongs to (the provider's ``sub``): a name the
    provider gives to someone else later never enters the first one's account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True)  # fmt: skip
    subject = models.CharField(max_length=255)


SYSTEM = "systeem"  # the app itself in the audit log (retention)
FEED = "koppeling"  # the hospital system's messages: the account its days are made by
# Names the audit log gives to what is not an account: no account may have them.
RESERVED = (SYSTEM, UNKNOWN, FEED)
LOCAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,149}")


def name_problem(name: str) -> str | None:
    """Why a local account may not have this name: one the audit log gives the app, or one
    with letters that look like others (a Cyrillic ѕ in 'ѕysteem', an A in 'secА')."""
    if name.strip().lower() in RESERVED:
        return "deze naam is voorbehouden aan het auditlog"
    if not LOCAL_NAME.fullmatch(name):
        return "gebruik alleen de letters a-z en A-Z, cijfers en . _ - @ (geen spaties)"
    return None


def audit(
    user: Any,
    action: str,
    reference: str = "",
    leaflet: str = "",
    detail: str = "",
    covers: Iterable[str] = (),
    service: str | Iterable[str] = "",
) -> None:
    """An event by an account (or the app: ``SYSTEM``), about one reference or many."""
    name = getattr(user, "username", "") or str(user or "")
    listed = sorted({r for r in covers if REFERENCE.fullmatch(r)})  # never a name typed there
    services = service if isinstance(service, str) else ", ".join(sorted(service))
    AuditEvent.objects.create(
        user=name[:150], account=getattr(user, "pk", None), action=action,
        reference=reference[:40], leaflet=leaflet[:80], detail=detail[:300],
        service=services[:250],
        covers=f" {' '.join(listed)} " if listed else "",
    )  # fmt: skip
