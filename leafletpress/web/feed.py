"""The appointment feed: the hospital system's messages make the day lists themselves.

Input: an understood message (an ``Event`` of ``feed/hl7v2.py`` or ``feed/fhir.py``) from the
listener (listener.py) or the FHIR endpoint (views_feed.py). Output, in order:

1. ``accept``: the message stored (``FeedMessage``, and in the shared storage what a leaflet
   needs of it and the message as received) and applied to its appointment
   (``FeedAppointment``), in one transaction, *before* it is acknowledged. A message sent
   again (the same control id) is answered as the first time and never applied twice; an
   older message about an appointment never overrides a newer one. Answered AA, or AE with
   the reason in Dutch: a code ``config/koppeling.yaml`` does not know, or what
   ``Planner.check`` refuses, as for an uploaded list. Every message is an audit event.
2. ``build`` (a worker's task, a few seconds later, once for a burst): each changed day's
   list, per service, written as a CSV list and kept as a ``Day`` exactly as an upload is,
   checked by the same code. A day already made is replaced by a correction (only changed
   leaflets are made again; the day says what changed), as a corrected upload is.
3. ``timing`` (the workers' watch): days made and emailed when ``timing`` in
   ``config/koppeling.yaml`` says, emailed only once a secretary marked them "Nagekeken"
   (unless the hospital turned that off).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..common.errors import BusyError, LeafletpressError
from ..common.files import exclusive, write_atomic
from ..day.journal import inputs_digest
from ..feed.events import (
    BEFORE,
    BOOKED,
    CANCELLED,
    CHANGED,
    DISCHARGE,
    DISCHARGED,
    FIELD_NAMES,
    Event,
    Mapped,
    day_list,
    row,
)
from ..feed.mapping import SHOWN, Mapping
from ..visit.daylist import Row, load_columns
from . import patients, service
from .models import FEED, Day, FeedAppointment, FeedMessage, Mailing, audit
from .queueing import queue
from .storage import keep, path_of

log = logging.getLogger(__name__)
PAUSE_SECONDS = 2  # a burst of messages is one list: built this long after the last
LONGEST_WAIT = 20  # ...or this long after the first, while a long burst goes on
AGAIN_SECONDS = 10  # a list whose day is being made or emailed: built again after this
REJECTED = "AR"  # not stored: the engine sends it again (HL7's application reject)
OLDER = "ouder dan het laatste bericht over deze afspraak: niet toegepast"
NOTHING_TO_CANCEL = "geen afspraak met een folder (of al geannuleerd): niets te annuleren"
NO_FEED = "het ziekenhuis heeft geen koppeling ingesteld (config/koppeling.yaml ontbreekt)"


@dataclasses.dataclass(frozen=True)
class Answer:
    code: str  # AA or AE (AR: the listener, for what it could not read)
    text: str = ""
    later: bool = False  # not stored, for a reason of ours: the sender should send it again


RECENT = 2.0  # seconds: a message is checked against the content as it was this recently


def configured() -> tuple[Mapping | None, str]:
    """The hospital's feed configuration, or why there is none to use; read once per
    version of the content."""
    try:
        mapping = service.engine(recent=RECENT).mapping()
    except LeafletpressError as exc:
        log.error("de koppeling kan niet werken: %s", exc)
        return None, f"{str(exc).splitlines()[0]}: het ziekenhuis moet dit verbeteren"
    return mapping, "" if mapping is not None else NO_FEED


def account() -> User:
    """The account the feed's days are made by: it cannot sign in."""
    user, made = User.objects.get_or_create(username=FEED, defaults={"is_active": False})
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def accept(channel: str, sender: str, raw: bytes, event: Event) -> Answer:
    """Store and apply one message, once; what to answer. ``raw`` is kept for the retention
    period, for IT to see what was sent; the leaflet's fields are kept apart from it."""
    mapping, problem = configured()
    if mapping is None:  # nothing stored: the engine sends it again once this is put right
        return Answer(REJECTED, f"{problem}; stuur het bericht later opnieuw", later=True)
    control, digest = f"{channel}:{event.control}", event.digest
    try:
        with transaction.atomic():
            earlier = FeedMessage.objects.filter(control=control).first()
            if earlier is not None:
                return _again(earlier, sender, digest)
            message = FeedMessage.objects.create(
                channel=channel, sender=sender[:100], control=control, kind=event.kind,
                appointment=event.appointment, reference=event.reference, outcome="",
                digest=digest,
            )  # fmt: skip
            code, text, dates, kept = _apply(message, event, mapping)
            if kept is not None:  # written before the commit: an accepted message is on disk
                write_atomic(path_of(message.raw_name), raw)
                write_atomic(path_of(message.event_name), kept.to_json().encode("utf-8"))
            FeedMessage.objects.filter(pk=message.pk).update(outcome=code, reason=text[:2000])
            _audit(message, code)
    except IntegrityError:  # the same message on two connections at once: one stored it
        return _again(FeedMessage.objects.get(control=control), sender, digest)
    transaction.on_commit(lambda: _soon(dates))
    return Answer(code, text)


def _again(earlier: FeedMessage, sender: str, digest: str) -> Answer:
    """A control id seen before: the same message sent again is answered as then; another
    message under the same id is refused (never applied, never taken for the first)."""
    same = earlier.digest == digest
    audit(FEED, "bericht opnieuw ontvangen" if same else "bericht geweigerd", earlier.reference,
          detail=f"{earlier.kind} {earlier.control} van {sender}: "
                 + ("al verwerkt, niet opnieuw toegepast" if same else
                    "ander bericht onder een berichtnummer dat al gebruikt werd"))  # fmt: skip
    if not same:
        return Answer(REJECTED, f"berichtnummer {earlier.control.split(':', 1)[1]} werd al "
                                "gebruikt voor een ander bericht: geef elk bericht een eigen "
                                "nummer (MSH-10) en stuur het opnieuw")  # fmt: skip
    _soon({(a.date, a.moment) for a in FeedAppointment.objects.filter(message=earlier)})
    return Answer(earlier.outcome, earlier.reason)


def _soon(dates: set[tuple[date, str]]) -> None:
    """The builds of these days queued; a failure here is the watch's to make up for (the
    message is stored: its answer stays)."""
    try:
        schedule(dates)
    except Exception:  # the database locked for longer than its timeout
        log.exception("koppeling: de lijst van %s wordt bij de volgende wacht gemaakt",
                      ", ".join(sorted(on.isoformat() for on, _ in dates)))  # fmt: skip
        for on, moment in dates:  # for the watch (``timing``)
            write_atomic(path_of(f"{BUILDING}/{on.isoformat()}-{moment}.todo"), b"")


def _audit(message: FeedMessage, code: str) -> None:
    """Every message, by its numbers and answer; the answer's reason only in the message's
    row (it may quote a cell, such as a name typed where a language goes: retention clears
    it)."""
    said = f"{message.kind} {message.control} van {message.sender}"
    said += f", afspraak {message.appointment}" if message.appointment else ""
    audit(FEED, "bericht ontvangen", message.reference, detail=f"{said}: {code}")


Applied = tuple[str, str, set[tuple[date, str]], Event | None]


def _apply(message: FeedMessage, event: Event, mapping: Mapping) -> Applied:
    """The message's effect on its appointment: the answer, the days whose list changes, and
    the event kept for the leaflet (None: nothing of the message is kept)."""
    if event.action == DISCHARGED:
        return _discharge(message, event, mapping)
    found = FeedAppointment.objects.select_for_update().filter(key=event.appointment).first()
    if found is not None and event.sent and found.sent > event.sent:
        return "AA", OLDER, set(), None
    mapped = row(event, mapping) if event.action != CANCELLED else None
    if mapped is None or mapped.ignored:  # cancelled, or now a procedure without a leaflet
        why = f"ingreep zonder folder (ignore in {SHOWN}): " if mapped else ""
        if found is None and mapped is None:  # before its booking came: a booking sent
            FeedAppointment.objects.create(  # earlier, arriving later, is then older
                key=event.appointment, message=message, sent=event.sent,
                date=timezone.localdate(), moment=BEFORE, reference=event.reference,
                cancelled=True,
            )  # fmt: skip
        if found is None or found.cancelled:
            return "AA", why + ("niets te doen" if mapped else NOTHING_TO_CANCEL), set(), None
        FeedAppointment.objects.filter(pk=found.pk).update(
            cancelled=True, message=message, sent=event.sent, updated=timezone.now()
        )
        return (
            "AA",
            why + ("de folder vervalt" if mapped else ""),
            {(found.date, found.moment)},
            None,
        )
    if event.action == BOOKED and found is not None and not found.cancelled:
        event = dataclasses.replace(event, action=CHANGED)  # booked again: a change
    before = {(found.date, found.moment)} if found is not None else set()
    return (*_judged(mapped), before | {_keep(event, message)}, event)


def _keep(event: Event, message: FeedMessage) -> tuple[date, str]:
    """The appointment as this message describes it (the message holds its fields)."""
    on = event.day
    assert on is not None  # the readers refuse a message without a date
    FeedAppointment.objects.update_or_create(key=event.appointment, defaults={
        "message": message, "sent": event.sent, "date": on, "moment": event.moment,
        "reference": event.reference, "cancelled": False,
    })  # fmt: skip
    return on, event.moment


def _judged(mapped: Mapped) -> tuple[str, str]:
    """AA, or AE with what the mapping and the list's check refuse (the row is kept: it is
    shown with the day's errors until a later message or the mapping puts it right)."""
    problems = list(mapped.unknown)
    if not problems:
        checked = service.engine(recent=RECENT).planner().check(Row(2, mapped.values))
        if isinstance(checked, list):
            problems = [
                f"{FIELD_NAMES.get(error.field or '', error.field)}: {error.message}"
                + (f" ({error.hint})" if error.hint else "")
                for error in checked
            ]
    return ("AE", "; ".join(problems)) if problems else ("AA", "")


def _discharge(message: FeedMessage, event: Event, mapping: Mapping) -> Applied:
    """A discharge for a patient whose operation came from the feed: the discharge leaflet,
    on the list of the discharge day (the ward's). Any other discharge is no leaflet's."""
    operation = (
        FeedAppointment.objects.filter(reference=event.reference, moment="voor",
                                       cancelled=False, date__lte=event.discharge)
        .select_related("message").order_by("-date", "-updated").first()
    )  # fmt: skip
    if operation is None:
        return (
            "AA",
            "geen operatie met een folder voor deze patiënt: geen ontslagfolder",
            set(),
            None,
        )
    merged = _event_of(operation).discharged(event)
    earlier = FeedAppointment.objects.filter(key=merged.appointment).first()
    if earlier is not None and event.sent and earlier.sent > event.sent:
        return "AA", OLDER, set(), None
    before = {(earlier.date, earlier.moment)} if earlier else set()
    return (*_judged(row(merged, mapping)), before | {_keep(merged, message)}, merged)


def _event_of(appointment: FeedAppointment) -> Event:
    return Event.from_json(path_of(appointment.message.event_name).read_text(encoding="utf-8"))


# --- the day's list -------------------------------------------------------------------------


def schedule(dates: Iterable[tuple[date, str]], seconds: float = PAUSE_SECONDS) -> None:
    """Build these days' lists ``seconds`` after the last message of a burst: once for the
    burst, and at least every ``LONGEST_WAIT`` while a long one goes on."""
    from .tasks import build_feed_day, queued

    now = timezone.now()
    for on, moment in dates:
        waiting = queued("build_feed_day", on.isoformat(), moment)
        recent = waiting.filter(enqueued_at__gte=now - timedelta(seconds=LONGEST_WAIT))
        if recent.update(run_after=now + timedelta(seconds=seconds)) or waiting.exists():
            continue  # pushed back to after this message; or built soon anyway
        build_feed_day.using(run_after=now + timedelta(seconds=seconds)).enqueue(
            on.isoformat(), moment
        )


def build(on: date, moment: str) -> bool:
    """The day's lists, one per service, as the appointments now stand; made if ``timing``
    says so. False when a list's earlier version is being made or emailed, or another worker
    builds this day now: try again."""
    mapping = configured()[0]
    if mapping is None:
        return True  # said in the log; the messages wait until it is put right
    lock = path_of(f"{BUILDING}/{on.isoformat()}-{moment}.lock")
    lock.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        with exclusive(lock, BusyError("wordt al gemaakt")):
            return _build(on, moment, mapping)
    except BusyError:
        return False


BUILDING = "koppeling-bouw"  # in the shared folder: one lock per day being built


def _build(on: date, moment: str, mapping: Mapping) -> bool:
    columns = load_columns(service.project())
    groups: dict[str, list[tuple[str, str, Mapped]]] = {}
    for appointment in FeedAppointment.objects.filter(date=on, moment=moment, cancelled=False
                                                      ).select_related("message"):  # fmt: skip
        event = _event_of(appointment)
        mapped = row(event, mapping)
        if not mapped.ignored:
            key = f"{on.isoformat()}|{moment}|{_service_of(mapped)}"
            groups.setdefault(key, []).append((event.start, appointment.key, mapped))
    known = set(Day.objects.filter(feed__startswith=f"{on.isoformat()}|{moment}|",
                                   purged__isnull=True).values_list("feed", flat=True))  # fmt: skip
    done = True
    for key in sorted(known | set(groups)):
        rows = [mapped for _, _, mapped in sorted(groups.get(key, []))]
        data = day_list([m.values for m in rows], columns) if rows else b""
        unknown = {str(n): list(m.unknown) for n, m in enumerate(rows, start=2) if m.unknown}
        done = _build_one(key, data, unknown, mapping) and done
    return done


def _service_of(mapped: Mapped) -> str:
    """Whose list a row is on: its leaflet's service, else its surgeon's (a row whose
    procedure code is unknown is still shown to the service that operates)."""
    found = service.service_of(mapped.values.get("leaflet", ""))
    surgeon = service.registry().surgeons.get(mapped.values.get("surgeon", ""))
    return found or (str(surgeon.service) if surgeon is not None else "")


def current(key: str) -> Day | None:
    """The latest version of a feed day's list."""
    return Day.objects.filter(feed=key, purged__isnull=True).order_by("-created").first()


def _build_one(key: str, data: bytes, unknown: dict[str, list[str]], mapping: Mapping) -> bool:
    latest = current(key)
    if latest is not None and latest.sha256 == service.sha256(data):
        return True  # nothing changed (a message sent again, a change undone)
    if latest is not None and _busy(latest):
        return False
    if not data:  # every appointment of the list cancelled
        return _emptied(key)
    day = latest if latest is not None and latest.status == Day.CHECKED else None
    if day is None:
        on, moment, services = key.split("|", 2)
        shown = date.fromisoformat(on).strftime("%d/%m/%Y")
        named = f"{shown}{' ontslag' if moment == DISCHARGE else ''} – {services or '?'}"
        day = Day(made_by=account(), feed=key, suffix=".csv",
                  source_name=f"{named[:100]} (ziekenhuissysteem)")  # fmt: skip
    day.sha256, day.size = service.sha256(data), len(data)
    keep(day.upload_name, data)
    checked = service.check_day(day.upload, day.source_name)
    entries = checked.planned.entries if checked.planned else []
    day.services = sorted(service.services_in(checked))
    day.dates = sorted({entry.p.visit.day.isoformat() for entry in entries})
    day.rows = len(checked.listing.rows) if checked.listing else 0
    day.good = len(entries)
    day.outcome = {"feed": {"unknown": unknown}}
    day.save()
    audit(FEED, "lijst uit koppeling", detail=f"dag {day.id}: {day.rows} rijen, {day.good} goed",
          covers=[entry.who for entry in entries], service=day.services)  # fmt: skip
    if key.split("|")[1] == DISCHARGE or _due(key, mapping.timing.make):
        make(day)  # a discharge leaflet at once: the ward prints it today
    return True


def _busy(day: Day) -> bool:
    """Being made, or its leaflets being emailed: a new version waits until it ends."""
    return (
        day.status in (Day.QUEUED, Day.RUNNING)
        or day.mailings.filter(status__in=[Mailing.QUEUED, Mailing.RUNNING]).exists()
    )


def _emptied(key: str) -> bool:
    """Every appointment of a list cancelled: a version never made goes; the latest made one
    stays, said to be cancelled, and is never emailed from the feed again."""
    for day in Day.objects.filter(feed=key, status=Day.CHECKED, purged__isnull=True):
        day.upload.unlink(missing_ok=True)
        day.delete()
    made = patients.correctable(Day.objects.filter(feed=key)).order_by("-created").first()
    if made is not None and not made.outcome.get("cancelled"):
        made.outcome["cancelled"] = timezone.now().isoformat(timespec="seconds")
        made.save(update_fields=["outcome"])
        audit(FEED, "lijst geannuleerd", detail=f"dag {made.id}: alle afspraken geannuleerd",
              service=made.services)  # fmt: skip
    return True


def _due(key: str, days_before: int | None, today: date | None = None) -> bool:
    """Whether ``days_before`` the list's day has come (0: at once, 'bij boeking'; None:
    never)."""
    if days_before is None or days_before == 0:
        return days_before == 0
    on = date.fromisoformat(key.split("|", 1)[0])
    return (today or timezone.localdate()) >= on - timedelta(days=days_before)


def make(day: Day) -> bool:
    """Queue a feed day, as a correction of its latest made version if there is one."""
    from .tasks import make_day

    checked = service.check_day(day.upload, day.source_name)
    if checked.planned is None or not checked.planned.entries:
        return False  # nothing to make: the day's page shows why
    made = patients.correctable(Day.objects.filter(feed=day.feed)).exclude(pk=day.pk)
    earlier = list(made.order_by("-created")[:1])
    fix = patients.correction(day, checked, earlier, forced=True) if earlier else None
    with transaction.atomic():
        locked = Day.objects.select_for_update().filter(pk=day.pk, status=Day.CHECKED).first()
        if locked is None or not queue(locked, checked, fix, {"edition": "a5",
                                                              "separators": True}):  # fmt: skip
            return False
    transaction.on_commit(lambda: make_day.enqueue(str(day.id)))
    audit(FEED, "dag gestart", detail=f"dag {day.id}: {locked.total} folders (koppeling)",
          covers=[entry.who for entry in checked.planned.entries],
          service=locked.services)  # fmt: skip
    return True


# --- timing ---------------------------------------------------------------------------------


def timing(today: date | None = None) -> None:
    """The watch's turn: feed days made and emailed when ``timing`` says."""
    mapping = configured()[0]
    if mapping is None:
        return
    _again_after_a_change()
    for todo in path_of(BUILDING).glob("*.todo"):  # a build that could not be queued
        on, moment = todo.stem.rsplit("-", 1)
        schedule({(date.fromisoformat(on), moment)})
        todo.unlink()
    for day in Day.objects.filter(status=Day.CHECKED, purged__isnull=True).exclude(feed=""):
        if day == current(day.feed) and _due(day.feed, mapping.timing.make, today):
            make(day)
    for day in Day.objects.filter(status=Day.DONE, purged__isnull=True, replaced_by__isnull=True,
                                  feed__contains="|voor|"):  # fmt: skip
        if (_due(day.feed, mapping.timing.email, today) and day == current(day.feed)
                and mailable(day, mapping) is None):  # never an older version  # fmt: skip
            send(day)


def _again_after_a_change() -> None:
    """After the content changed (a code added to the mapping, a campus, a leaflet): every
    coming day's lists built again, so a row refused for a code nobody had mapped yet is put
    right without waiting for a new message about it."""
    marker = path_of(BUILT_WITH)
    digest = inputs_digest(service.project())
    try:
        if marker.read_text(encoding="ascii") == digest:
            return
    except OSError:
        pass
    coming = FeedAppointment.objects.filter(date__gte=timezone.localdate())
    schedule(set(coming.values_list("date", "moment").distinct()))
    write_atomic(marker, digest.encode("ascii"))


BUILT_WITH = "koppeling-inhoud"  # in the shared folder: the content the lists were last built with


def mailable(day: Day, mapping: Mapping) -> str | None:
    """Why a made feed day is not emailed by itself now; None when it is."""
    if day.outcome.get("cancelled"):
        return "alle afspraken van deze lijst zijn geannuleerd"
    if day.mailings.exists():
        return "deze lijst werd al gemaild"
    if not day.outcome.get("checked") and not mapping.timing.email_unchecked:
        return "nog niet nagekeken door het secretariaat"
    if service.proof_needed():
        return "er ging nog geen proef-e-mail met de huidige instellingen"
    return None


def send(day: Day) -> None:
    from .tasks import email_day

    with transaction.atomic():
        if Day.objects.select_for_update().filter(pk=day.pk).first() is None:
            return
        if day.mailings.exists():
            return
        mailing = Mailing.objects.create(day=day, started_by=account())
    transaction.on_commit(lambda: email_day.enqueue(mailing.pk))
    audit(FEED, "e-mail gestart", detail=f"dag {day.id} (koppeling: timing)",
          service=day.services)  # fmt: skip


def checked_by(day: Day, user: Any) -> None:
    """A secretary looked at this version of the feed day ("Nagekeken")."""
    day.outcome["checked"] = {"by": user.get_username(),
                              "at": timezone.now().isoformat(timespec="seconds")}  # fmt: skip
    day.save(update_fields=["outcome"])
    audit(user, "dag nagekeken", detail=f"dag {day.id}", service=day.services)
