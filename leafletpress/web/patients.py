"""Finding a patient's leaflets again (issue 24): the index of what was made, the search, the
second leaflet of one day, and the earlier upload a corrected list replaces.

Input: a made day's plan or a one-patient leaflet (to index), a search text, a checked list.
Output: ``PatientLeaflet`` rows, and what the check page says before anything is made.
Guarantees: no name is stored, searched in a URL or logged: names are matched through the
keyed hashes of their words; a patient is found by a reference in any case.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from ..common.keyed import keyed
from ..visit.changes import Changes, compare, patient_key
from ..visit.personalise import Personalisation
from ..visit.plan import Entry
from . import service
from .models import Day, Document, PatientLeaflet


def words(name: str) -> list[str]:
    """A name's words as they are matched: any case, accents and punctuation ignored
    ('Marie-Thérèse  Peeters' -> marie, therese, peeters)."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c if c.isalnum() else " " for c in plain if not unicodedata.combining(c))
    return plain.split()


def name_words(name: str) -> str:
    """What the index keeps of a name: each word's keyed hash (16 hex digits), spaced."""
    return " " + " ".join(sorted({keyed(f"naam:{w}")[:16] for w in words(name)})) + " "


def _row(p: Personalisation, who: str, services: dict[str, str]) -> dict[str, Any]:
    visit = p.visit
    return {
        "who": who,
        "reference": (visit.patient.reference or "").lower(),
        "name_words": name_words(visit.patient.name),
        "date": visit.day,
        "time": visit.time,
        "site": visit.site,
        "leaflet": visit.leaflet,
        "variant": visit.variant,
        "moment": visit.moment,
        "language": p.leaflet.lang,
        "service": services.get(visit.leaflet, ""),
    }


def index_day(day: Day, entries: Iterable[Entry]) -> None:
    """A day's leaflets, when it is started: found by the search from then on."""
    PatientLeaflet.objects.filter(day=day).delete()
    services = service.services()
    PatientLeaflet.objects.bulk_create(
        PatientLeaflet(day=day, row=entry.row, **_row(entry.p, entry.who, services))
        for entry in entries
    )


def index_document(document: Document, p: Personalisation, who: str) -> None:
    PatientLeaflet.objects.create(document=document, **_row(p, who, service.services()))


def current() -> Any:
    """Leaflets that are still there: of a document or a day not purged, not failed, and not
    replaced by a corrected list that was made."""
    replaced = Q(day__replaced_by__status=Day.DONE)
    return (
        PatientLeaflet.objects.filter(
            Q(document__purged__isnull=True, document__isnull=False)
            | Q(day__purged__isnull=True, day__isnull=False)
        )
        .exclude(day__status=Day.FAILED)
        .exclude(replaced)
        .select_related("day", "document")
    )


def search(text: str, services: set[str] | None, limit: int = 50) -> list[PatientLeaflet]:
    """Leaflets whose reference is ``text`` (any case), or whose name has every word of it."""
    text = text.strip()
    if not text:
        return []
    found = Q(reference=text.lower())
    typed = words(text)
    if typed:
        by_name = Q()
        for word in typed:
            by_name &= Q(name_words__contains=f" {keyed(f'naam:{word}')[:16]} ")
        found |= by_name
    leaflets = current().filter(found)
    if services is not None:
        leaflets = leaflets.filter(service__in=services)
    return list(leaflets.order_by("-date", "time", "row")[:limit])


@dataclass(frozen=True)
class Second:
    """A row of a list whose patient already has a leaflet for that day."""

    row: int
    who: str
    where: str  # "in de lijst ‘dag.csv’, rij 2", "eerder gemaakt met ‘Eén patiënt’"
    leaflet: PatientLeaflet
    shown: bool = True  # False: a list she may not open (need to know): not named, no link


def seconds(day: Day, entries: list[Entry], replaced: Day | None) -> list[Second]:
    """Rows whose patient has a leaflet of the same kind (leaflet, moment) for that day
    already, from another list or the one-patient form (not from the list this one
    replaces: that is a correction)."""
    wanted: dict[tuple[str, Any, str, str], Entry] = {}
    for entry in entries:
        visit = entry.p.visit
        if visit.patient.reference:
            key = (visit.patient.reference.lower(), visit.day, visit.leaflet, visit.moment)
            wanted.setdefault(key, entry)
    if not wanted:
        return []
    days = {key[1] for key in wanted}
    earlier = current().filter(date__in=days, reference__in={k[0] for k in wanted})
    earlier = earlier.exclude(day=day)
    if replaced is not None:
        earlier = earlier.exclude(day=replaced)
    found = []
    for leaflet in earlier:
        entry = wanted.get((leaflet.reference, leaflet.date, leaflet.leaflet, leaflet.moment))
        if entry is not None:
            found.append(Second(entry.row, entry.who, _where(leaflet), leaflet))
    return sorted(found, key=lambda s: s.row)


def _where(leaflet: PatientLeaflet) -> str:
    if leaflet.document is not None:
        return f"eerder gemaakt met ‘Eén patiënt’ op {leaflet.made:%d/%m/%Y}"
    assert leaflet.day is not None
    return f"in de lijst ‘{leaflet.day.source_name}’, rij {leaflet.row}"


@dataclass
class Correction:
    """A corrected list and the earlier upload it replaces."""

    earlier: Day
    changes: Changes

    @property
    def remade(self) -> int:
        """The leaflets the correction makes: new rows, and changed ones (not when only the
        address changed)."""
        return len(self.changes.new) + sum(c.reprint for c in self.changes.changed)


def correction(
    day: Day, checked: service.Checked, candidates: list[Day], forced: bool = False
) -> Correction | None:
    """The earlier upload this list may correct: the latest made day of the same appointment
    days, not replaced yet, at least half of whose patients are on this list (a list that
    grew corrects the shorter one; a row refused here counts as on it). Whether it does is
    hers to say: the check page offers to replace it or to make this list beside it.
    ``forced``: the list was made from one of the candidate's rows ("Wijzig"): it corrects
    that day even when the change moved the patient to another day or changed who it is."""
    if checked.planned is None or checked.listing is None:
        return None
    ours = {patient_key(e)[0] for e in checked.planned.entries} | refused_references(checked)
    for earlier in candidates:
        if not earlier.upload.is_file():
            continue
        before = service.check_day(earlier.upload, earlier.source_name)
        if before.planned is None or before.listing is None:
            continue
        theirs = {patient_key(e)[0] for e in before.planned.entries}
        if forced or (ours and theirs and len(ours & theirs) * 2 >= len(theirs)):
            changes = compare((before.listing, before.planned),
                              (checked.listing, checked.planned), service.registry(),
                              refused_references(checked))  # fmt: skip
            return Correction(earlier, changes)
    return None


def refused_references(checked: service.Checked) -> set[str]:
    """The references (lower case) on the list's refused rows: such a patient is still on
    the list, her row has a mistake; her earlier leaflet stays until it is corrected."""
    bad = {row["number"] for row in checked.bad_rows}
    rows = checked.listing.rows if checked.listing else []
    return {r.values.get("reference", "").lower() for r in rows if r.number in bad} - {""}


def correctable(days: Any) -> Any:
    """Of ``days``, those a list may correct: made, kept, not replaced yet."""
    return days.filter(status=Day.DONE, purged__isnull=True, replaced_by__isnull=True)


def correction_candidates(day: Day) -> Any:
    """Made days of the same appointment days that this list may correct (also one made
    after it was uploaded: the page then says what this list changes against that one)."""
    made = correctable(Day.objects.filter(dates=day.dates))
    return made.exclude(pk=day.pk).order_by("-created")


def being_made(day: Day) -> Any:
    """Lists of the same appointment days being made now: a correction waits for them (it
    would correct a list it never saw)."""
    return Day.objects.filter(status__in=[Day.QUEUED, Day.RUNNING], dates=day.dates,
                              purged__isnull=True).exclude(pk=day.pk)  # fmt: skip
